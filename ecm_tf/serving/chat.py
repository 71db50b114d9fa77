"""`--mode=chat`: type a post, see one response per emotion (like ECM Table 1).

    python -m ecm_tf.main --mode=chat --model_dir=runs/builtin/ecm
    python -m ecm_tf.main --mode=chat --model_dir=runs/cerg        # a CERG or P&E2R folder

Reads posts from stdin one line at a time; an empty line or end of input exits.
"""

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


def run(cfg):
    emotion_ids = emotion_list(cfg.emotion)
    stdin = io_utils.stdin("--mode=chat", "type or pipe the posts in")  # before loading the model
    family = config.saved_model_family(cfg.model_dir)
    respond = _cerg_responder(cfg) if family in ("cerg", "pe2r") else _ecm_responder(cfg)
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
        try:
            shown, responses = respond(line.strip(), f"<stdin>:{turn}", emotion_ids)
        except InputError as e:
            print(f"  ({e})", flush=True)
            continue
        if not interactive:
            print(f"post: {shown}")
        for e in emotion_ids:
            print(f"  {emotions.NAMES[e]:<{width}}  {responses[e]}", flush=True)
