"""`--mode=decode` on a CERG or P&E2R model folder: `run(cfg)`.

Posts: --input (any conversation format of ecm_tf.data.readers; a plain `lines` file gives one
post a line), else the first --num_posts distinct posts of the dev split of the model's
--data_dir. Emotions: --emotion (default all = Like, Sad, Disgust, Angry, Happy). CERG reranks its
beam candidates with BM25 retrieval unless --no_retrieval. --beam_size (CERG paper: 2),
--retrieval_k and --retrieval_weight apply at decode time.

Output (--output, written atomically; else stdout): JSON lines {"post", "emotion", "response",
"candidates": [{"response", "log_prob", "length", "similarity", "score"}], "retrieved": [...]},
the format --mode=eval_sheet reads.
"""

import json
import sys

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.cerg.predictor import CergPredictor
from ecm_tf.data import readers
from ecm_tf.errors import InputError


def read_posts(cfg, settings):
    """Distinct posts of --input, else of the dev split of the model's data folder (max --num_posts)."""
    if cfg.input:
        posts = []
        for path in [p.strip() for p in cfg.input.split(",") if p.strip()]:
            posts += [p.post or p.response for p in readers.read_corpus(path, cfg.input_format)]
    else:
        from ecm_tf.data import pipeline

        data_dir = settings.get("data_dir", cfg.data_dir)
        posts = [ex["post_text"].replace(" ", "") for ex in pipeline.read_split(data_dir, "dev")]
        posts = posts[: max(cfg.num_posts, 0) * 20]
    posts = list(dict.fromkeys(p for p in posts if p.strip()))
    if not cfg.input:
        posts = posts[: cfg.num_posts]
    if not posts:
        raise InputError(f"--input={cfg.input or '(dev split)'}: no posts")
    return posts


def decode(cfg, predictor=None):
    """Returns the result dicts for every post x emotion (module docstring)."""
    # Decode settings saved at training time apply unless given on this command line.
    overrides = {n: getattr(cfg, n) for n in ("beam_size", "retrieval_k", "retrieval_weight") if cfg.is_set(n)}
    predictor = predictor or CergPredictor.load(cfg.model_dir, **overrides)
    posts = read_posts(cfg, predictor.settings)
    emotion_ids = emotions.parse_emotion_list(cfg.emotion)
    rows = [(p, e) for p in posts for e in emotion_ids]
    print(f"decode: {len(posts)} posts x {len(emotion_ids)} emotions, beam {predictor.beam_size}, "
          f"retrieval {'off' if cfg.no_retrieval or predictor.index is None else 'on'}", file=sys.stderr, flush=True)
    return predictor.respond_detailed([p for p, _ in rows], [e for _, e in rows], use_retrieval=not cfg.no_retrieval)


def run(cfg):
    results = decode(cfg)
    lines = [json.dumps(r, ensure_ascii=False) for r in results]
    if cfg.output:
        with io_utils.atomic_open(cfg.output) as f:
            f.write("\n".join(lines) + "\n")
        print(f"decode: wrote {len(lines)} responses to {cfg.output}", file=sys.stderr, flush=True)
    else:
        for r in results:
            print(f"{r['post']}\t{r['emotion']}\t{r['response']}", flush=True)
