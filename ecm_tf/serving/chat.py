"""`--mode=chat`: type a post, see one response per emotion (like ECM Table 1).

    python -m ecm_tf.main --mode=chat --model_dir=runs/builtin/ecm
    python -m ecm_tf.main --mode=chat --model_dir=runs/cerg        # a CERG or P&E2R folder

Reads posts from stdin one line at a time; an empty line or end of input exits. With
--emotion=auto each post gets the response emotion chosen from its own emotion
(classifier/auto_emotion.py), and the line names the post emotion that was detected.
"""

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import text as text_lib
from ecm_tf.decoding.decode import emotion_list, is_auto
from ecm_tf.errors import InputError
from ecm_tf.models import registry


def run(cfg):
    auto = is_auto(cfg.emotion)
    emotion_ids = list(emotions.GENERATED) if auto else emotion_list(cfg.emotion)
    stdin = io_utils.stdin("--mode=chat", "type or pipe the posts in")  # before loading the model
    family, saved = registry.open(cfg.model_dir)
    predictor = family.load(cfg, cfg.model_dir, saved)
    choose = None
    if auto:
        from ecm_tf.classifier.auto_emotion import AutoEmotion

        chooser = AutoEmotion.load(cfg.classifier_dir, predictor.data_dir or cfg.data_dir, cfg.auto_emotion_top_k)
        choose = lambda line: chooser.choose([text_lib.segment(line)])[0]  # noqa: E731
    interactive = stdin.isatty()
    width = max(len(emotions.NAMES[e]) for e in emotion_ids)
    print(f"{family.title} chat ({cfg.model_dir}): type a post, empty line to quit.", flush=True)
    turn = 0
    while True:
        if interactive:
            print("post> ", end="", flush=True)
        line = stdin.readline()
        if not line or not line.strip():
            break
        turn += 1
        wanted, note = emotion_ids, ""
        if choose:
            post_emotion, wanted = choose(line.strip())
            note = f"  (auto: post emotion {emotions.NAMES[post_emotion]})"
        try:
            post = family.prepare_post(predictor.settings, line.strip(), f"<stdin>:{turn}")
        except InputError as e:
            print(f"  ({e})", flush=True)
            continue
        records = predictor.predict([post] * len(wanted), list(wanted))
        if not interactive:
            print(f"post: {records[0]['post']}")
        for e, r in zip(wanted, records):
            print(f"  {emotions.NAMES[e]:<{width}}  {r['response'] or '(no response)'}{note}", flush=True)
