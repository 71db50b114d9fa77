"""Serving latency of the exported SavedModel (ECM, beam 20): one post, and a batch of posts.

    python -m bench.bench_serving [--config=paper|small] [--runs=10] [--batch_posts=16]

Builds an ECM with random weights (paper: vocabulary 40,000 words for post and response,
embeddings 100, GRU 256 x 2 layers, emotion embedding 100, all three components; small:
vocabulary 2,000, embeddings 16, GRU 32 x 2), wraps it with its vocabularies in the package's
`ecm_tf.models.ecm.serving_module.ServingModule` (word lookup + beam search 20, top 5, inside the graph),
saves it with `serving_module.export` into a temporary folder and times the `serving_default` signature
(posts tf.string [B], emotions tf.string [B] -> responses [B, 5], scores [B, 5]) on posts of 10
words (bucket 12: up to 12 decoding steps), loaded two ways in this process: as TF Serving loads
it (`saved_models.SessionModel`: the TF1 loader, restore op + main op, then Session.run) and with
tf.saved_model.load.

Figures (appended to bench/results.jsonl, bench "serving", model "ecm"):
  - serving_session_latency_s / serving_latency_s: one post x one emotion, median of --runs calls
    after a warm-up call, session loader / tf.saved_model.load;
  - serving_session_posts_per_s / serving_posts_per_s: --batch_posts posts (one emotion each) in
    one call, posts per second, session loader / tf.saved_model.load.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench import common  # noqa: E402
from ecm_tf import flags as ecm_flags  # noqa: E402
from ecm_tf import emotions  # noqa: E402
from ecm_tf import saved_models  # noqa: E402
from ecm_tf.data.vocab import SPECIALS, WordVocabulary  # noqa: E402
from ecm_tf.models.ecm import factory  # noqa: E402
from ecm_tf.models.ecm import serving_module as ecm_serving  # noqa: E402

CONFIGS = {
    "paper": dict(vocab_size=40000, embed_dim=100, hidden=256, emotion_dim=100),
    "small": dict(vocab_size=2000, embed_dim=16, hidden=32, emotion_dim=16),
}
POST_WORDS = 10


def serving_module(c):
    """ServingModule of a random-weight ECM with word vocabularies w4 .. w{V-1}."""
    cfg = ecm_flags.defaults().replace(embed_dim=c["embed_dim"], hidden=c["hidden"], emotion_dim=c["emotion_dim"],
                                    decoder="beam", beam_size=20, top_k=5, max_decode_len=0)
    v = c["vocab_size"]
    vocab = WordVocabulary(list(SPECIALS) + [f"w{i}" for i in range(len(SPECIALS), v)])
    mask = (np.random.default_rng(0).random([emotions.NUM_EMOTIONS, v]) < 0.02).astype(np.uint8)
    mask[:, : len(SPECIALS)] = 0
    model = factory.create(cfg, v, v, mask)
    return ecm_serving.ServingModule(model, cfg, vocab, vocab), cfg


def median_call(fn, posts, emotion_names, runs):
    """Median seconds of fn(posts, emotions) (returning numpy outputs) over `runs` calls, after a warm-up."""
    fn(posts, emotion_names)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(posts, emotion_names)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def callers(path):
    """{"session": fn, "tf2": fn}, each fn(posts, emotions) -> numpy responses of serving_default."""
    session = saved_models.SessionModel(path)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    return {"session": lambda p, e: session.run("serving_default", posts=p, emotions=e)["responses"],
            "tf2": lambda p, e: serve(posts=tf.constant(p), emotions=tf.constant(e))["responses"].numpy()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="paper")
    parser.add_argument("--runs", type=int, default=10, help="timed calls of the one-post latency")
    parser.add_argument("--batch_posts", type=int, default=16)
    args = parser.parse_args()
    c = CONFIGS[args.config]
    module, cfg = serving_module(c)
    rng = np.random.default_rng(1)
    words = lambda: " ".join(f"w{i}" for i in rng.integers(len(SPECIALS), c["vocab_size"], POST_WORDS))  # noqa: E731

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = ecm_serving.export(module, os.path.join(tmp, "export", "1"))
        export_s = time.perf_counter() - start
        size_mb = saved_models.size_mb(path)
        start = time.perf_counter()
        fns = callers(path)
        load_s = time.perf_counter() - start
        one, batch = [words()], [words() for _ in range(args.batch_posts)]
        names = [emotions.NAMES[1 + i % (emotions.NUM_EMOTIONS - 1)] for i in range(args.batch_posts)]
        # The two loaders must answer alike before their times mean anything.
        if not (fns["session"](batch, names) == fns["tf2"](batch, names)).all():
            sys.exit("bench_serving: the session loader and tf.saved_model.load disagree")
        latency, batched = {}, {}
        for kind in ("session", "tf2", "session", "tf2"):  # alternating, best of two rounds
            lat = median_call(fns[kind], one, ["Happy"], args.runs)
            bat = median_call(fns[kind], batch, names, max(2, args.runs // 2))
            latency[kind], batched[kind] = min(lat, latency.get(kind, lat)), min(bat, batched.get(kind, bat))

    settings = (f"ECM vocab {c['vocab_size']} embed {c['embed_dim']} hidden {c['hidden']}x{cfg.num_layers} "
                f"emotion {c['emotion_dim']}, beam {cfg.beam_size} top {cfg.top_k}, post {POST_WORDS} words "
                f"(bucket 12), random weights, SavedModel serving_default, batch {args.batch_posts}")
    rows = [("serving_session_latency_s", latency["session"], "s"),
            ("serving_session_posts_per_s", args.batch_posts / batched["session"], "posts/s"),
            ("serving_latency_s", latency["tf2"], "s"), ("serving_posts_per_s", args.batch_posts / batched["tf2"], "posts/s")]
    common.banner()
    print(f"config : {args.config}: {settings}")
    print(f"export : {export_s:.1f} s, {size_mb:.1f} MB; both loaders {load_s:.1f} s; batch of {args.batch_posts} "
          f"posts in {batched['session']:.3f} s (session loader), {batched['tf2']:.3f} s (tf.saved_model.load)")
    print(f"{'metric':<28}{'value':>10}  unit")
    for metric, value, unit in rows:
        print(f"{metric:<28}{value:>10.4g}  {unit}")
    common.append([common.record("serving", m, v, u, args.config, "ecm", settings=settings) for m, v, u in rows])


if __name__ == "__main__":
    main()
