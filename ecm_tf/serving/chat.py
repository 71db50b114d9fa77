"""`--mode=chat`: type a post, see one response per emotion (like ECM Table 1).

    python -m ecm_tf.main --mode=chat --model_dir=runs/builtin/ecm
    python -m ecm_tf.main --mode=chat --model_dir=runs/cerg        # a CERG or P&E2R folder

Reads posts from stdin one line at a time; an empty line or end of input exits. With
--emotion=auto each post gets the response emotion chosen from its own emotion
(classifier/auto_emotion.py), and the line names the post emotion that was detected.
"""

import os

from ecm_tf import config
from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.decoding.decode import load_decoder
from ecm_tf.decoding.decoder import emotion_list, post_tokens
from ecm_tf.errors import InputError


def _ecm_responder(cfg):
    """respond(line, where, emotion_ids) -> (shown post, {emotion: response}) for an ECM folder."""
    decoder, model_cfg = load_decoder(cfg)

    def respond(line, where, emotion_ids):
        tokens = post_tokens(line, model_cfg, where)
        results = decoder.decode([tokens], emotion_ids)
        return " ".join(tokens), {e: " ".join(results[(0, e)][0][0]) if results[(0, e)] else "(no response)"
                                  for e in emotion_ids}

    return respond


def _cerg_responder(cfg):
    """The same for a CERG / P&E2R folder (BM25 rerank unless --no_retrieval)."""
    from ecm_tf.cerg.predictor import CergPredictor

    overrides = {n: getattr(cfg, n) for n in ("beam_size", "retrieval_k", "retrieval_weight") if cfg.is_set(n)}
    predictor = CergPredictor.load(cfg.model_dir, **overrides)

    def respond(line, where, emotion_ids):
        responses = predictor.respond([line] * len(emotion_ids), emotion_ids, use_retrieval=not cfg.no_retrieval)
        return line, dict(zip(emotion_ids, responses))

    return respond


def _auto_chooser(cfg):
    """--emotion=auto: the AutoEmotion of the model's training data (data_dir in its config.json)."""
    from ecm_tf.classifier.auto_emotion import AutoEmotion
    from ecm_tf.data import text as text_lib

    data_dir = io_utils.read_json(os.path.join(cfg.model_dir, "config.json")).get("data_dir", cfg.data_dir)
    chooser = AutoEmotion.load(cfg.classifier_dir, data_dir, cfg.auto_emotion_top_k)
    return lambda line: chooser.choose([text_lib.segment(line)])[0]


def run(cfg):
    auto = str(cfg.emotion).strip().lower() == "auto"
    emotion_ids = list(emotions.GENERATED) if auto else emotion_list(cfg.emotion)
    stdin = io_utils.stdin("--mode=chat", "type or pipe the posts in")  # before loading the model
    family = config.saved_model_family(cfg.model_dir)
    respond = _cerg_responder(cfg) if family in ("cerg", "pe2r") else _ecm_responder(cfg)
    choose = _auto_chooser(cfg) if auto else None
    interactive = stdin.isatty()
    width = max(len(emotions.NAMES[e]) for e in emotion_ids)
    print(f"{family.upper()} chat ({cfg.model_dir}): type a post, empty line to quit.", flush=True)
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
            shown, responses = respond(line.strip(), f"<stdin>:{turn}", wanted)
        except InputError as e:
            print(f"  ({e})", flush=True)
            continue
        if not interactive:
            print(f"post: {shown}")
        for e in wanted:
            print(f"  {emotions.NAMES[e]:<{width}}  {responses[e]}{note}", flush=True)
