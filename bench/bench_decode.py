"""Beam-search decoding speed at the paper's configuration, next to its FLOP floor.

    python -m bench.bench_decode [--runs=9] [--batch_posts=16] [--predict_posts=8] [--predict_beams=20,5]
                                 [--predict_rounds=2] [--cerg_configs=small,paper]

Model: ECM with all three components, vocabulary 40,000 (post and response), embeddings 100,
GRU 256 x 2 layers, emotion embedding 100, random weights (speed does not depend on them).
A post of 10 tokens is in bucket 12, so the search runs up to 12 steps with beam 20.

Figures:
  - latency: seconds to decode one post for one emotion (beam 20), median of --runs;
  - FLOP floor: matmul FLOPs of the decoder steps actually run (from the weight shapes:
    2 x kernel size per beam row, plus the attention over the post) / the matmul rate of this
    machine, measured on the dominant shape ([20, 256] x [256, 40000]) in turn with the latency
    runs (one search, three products, --runs times; medians), so both share the machine's load;
  - batched throughput: --batch_posts posts at once (rows = posts x beam), posts per second;
  - the one-post latency again with the search XLA-compiled (decode_beam20_s_per_post_xla); the
    SavedModel keeps the uncompiled search, so decode_beam20_s_per_post is the served figure.
Prints a table and appends JSON lines to bench/results.jsonl (bench "decode", config "paper",
model "ecm"): decode_beam20_s_per_post, decode_flop_floor_s, decode_beam20_posts_per_s_batched,
decode_beam20_s_per_post_xla, predict_posts_per_s.

Decoding many posts as --mode=decode and --mode=eval do (predict_posts_per_s, lines with `beam` 20 and 5
and `batching` single / batched): --predict_posts posts of 10 words x the five emotions through the
ECM predictor (`EcmPredictor.predict`, the ResponseGenerator's graph search, top 5), one pair per call ("single")
or all pairs in one call ("batched": up to ROWS_PER_BATCH // beam pairs per search), alternating
rounds, the best round of each; a post here is one post for one emotion, as above. The top-1
responses of the two ways are compared and the count of equal ones printed.

CERG (random weights, bench_train's CERG sizes, beam 2 as in the paper, a 20-character post, the
search run to its full 33 steps by forbidding _EOS): cerg_decode_s_per_response, the latency of
one response through the same in-graph beam search over `CergModel.step` (key/value cache),
median of --runs (config small / paper, model "cerg").
"""

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

from bench import common  # noqa: E402
from ecm_tf import flags as ecm_flags  # noqa: E402
from ecm_tf.data import vocab  # noqa: E402
from ecm_tf.samplers.beam_search import beam_search, tile_beam  # noqa: E402
from ecm_tf.models.ecm import factory  # noqa: E402

VOCAB, BEAM, POST_LEN, MAX_LEN = 40000, 20, 10, 12
# Per-step kernels are the cell's and the output layer's; the attention key projection and the
# internal memory's rows are read once per post.
STEP_SCOPES = ("ecm_model/decoder/", "ecm_model/output/")
ONCE_PER_POST = ("/attention_key/", "/internal_memory/memory")


def step_flops_per_row(model, hidden):
    """Matmul FLOPs of one decoder step for one beam row: 2 x per-step kernel sizes + attention."""
    params = sum(int(np.prod(w.shape)) for w in model.weights
                 if len(w.shape) == 2 and w.path.startswith(STEP_SCOPES)
                 and not any(part in w.path for part in ONCE_PER_POST))
    attention = 2 * 2 * POST_LEN * hidden  # score projection + context sum over the post positions
    return 2 * params + attention


def latency_and_rate(decode, post, emotion, rows, hidden, runs, matmuls=3):
    """(median seconds of decode(post, emotion), FLOP/s of the dominant matmul): one search, then
    `matmuls` timed [rows, hidden] x [hidden, VOCAB] products, in turn for `runs` rounds, so that
    both figures come from the same minutes of a shared machine (their ratio is the figure that counts)."""
    a = tf.random.normal([rows, hidden])
    b = tf.random.normal([hidden, VOCAB])
    f = tf.function(lambda a, b: tf.reduce_sum(tf.matmul(a, b)))
    f(a, b).numpy()
    decode(post, emotion)[0].numpy()  # trace + warm up
    searches, products = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        decode(post, emotion)[0].numpy()
        searches.append(time.perf_counter() - t0)
        for _ in range(matmuls):
            t0 = time.perf_counter()
            f(a, b).numpy()
            products.append(time.perf_counter() - t0)
    return statistics.median(searches), 2 * rows * hidden * VOCAB / statistics.median(products)


def make_decode(model, jit=False):
    """The beam search of one batch as a tf.function (graph mode, as served; or XLA-compiled)."""
    steps = tf.Variable(0, dtype=tf.int64, trainable=False)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)],
                 jit_compile=jit)
    def decode(post, emotion):
        batch = tf.shape(post)[0]
        encoded = model.encode(post, tf.fill([batch], tf.shape(post)[1]))
        state = model.initial_state(encoded, emotion)
        memory = tile_beam({k: encoded[k] for k in ("values", "keys", "mask")}, BEAM)
        model_step = model.step_fn(memory, tile_beam(emotion, BEAM))  # the served search's step
        steps.assign(0)

        def step_fn(ids, s):
            steps.assign_add(1)
            return model_step(ids, s)

        return beam_search(step_fn, state, batch, BEAM, MAX_LEN, top_k=5, start_id=vocab.GO_ID, eos_id=vocab.EOS_ID,
                           forbidden_ids=(vocab.PAD_ID, vocab.UNK_ID), unk_id=vocab.UNK_ID)

    return decode, steps


def cerg_latency(c, runs):
    """Seconds for one CERG response (beam 2, the full max_chars + 1 steps), median of `runs`."""
    from ecm_tf.models.cerg import char_vocab
    from ecm_tf.models.cerg.cerg_model import CergModel
    from ecm_tf.models.cerg.models import FORBIDDEN_IDS

    model = CergModel(c["vocab_size"], c["hidden"], c["layers"], c["heads"], c["max_chars"], dropout=0.0)
    model.build()
    beam, steps = 2, c["max_chars"] + 1

    @tf.function(input_signature=[tf.TensorSpec([None], tf.int32), tf.TensorSpec([None, None], tf.int32)])
    def search(emotion, post):
        return beam_search(model.step, model.initial_state(emotion, post), tf.shape(post)[0], beam, steps,
                           start_id=model.start_id, eos_id=char_vocab.EOS_ID,
                           forbidden_ids=FORBIDDEN_IDS + (char_vocab.EOS_ID,), unk_id=char_vocab.UNK_ID, top_k=beam)

    rng = np.random.default_rng(0)
    post = np.zeros([1, c["max_chars"]], np.int32)
    post[0, :20] = rng.integers(char_vocab.FIRST_CHAR_ID, c["vocab_size"], size=20)
    return timed(search, np.array([1], np.int32), post, runs=runs)


def timed(fn, *args, runs):
    fn(*args)[0].numpy()  # trace + warm up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(*args)[0].numpy()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


_SERVED = {}


def served_latency(runs):
    """(seconds, decoder steps run) of one post's beam-20 search at the paper size, graph mode as
    served (the model is built once per process; bench_peer times it beside PyTorch)."""
    if "decode" not in _SERVED:
        cfg = ecm_flags.defaults()
        mask = (np.random.default_rng(0).random([6, VOCAB]) < 0.02).astype(np.uint8)
        _SERVED["decode"] = make_decode(factory.create(cfg, VOCAB, VOCAB, mask))
    decode, steps = _SERVED["decode"]
    post = np.random.default_rng(0).integers(4, VOCAB, size=[1, POST_LEN]).astype(np.int32)
    latency = timed(decode, post, np.array([5], np.int32), runs=runs)
    return latency, int(steps.numpy())


def predict_throughput(model, beam, num_posts, rounds):
    """(single, batched) posts per second and equal top-1 count: num_posts posts x the five emotions
    through EcmPredictor.predict, one pair per call vs all pairs in one call (best of `rounds`)."""
    from ecm_tf import emotions
    from ecm_tf.models.ecm.generator import ResponseGenerator
    from ecm_tf.models.ecm.family import EcmFamily, EcmPredictor

    cfg = ecm_flags.defaults().replace(decoder="beam", beam_size=beam, max_decode_len=0)
    words = vocab.WordVocabulary(list(vocab.SPECIALS) + [f"w{i}" for i in range(len(vocab.SPECIALS), VOCAB)])
    predictor = EcmPredictor(EcmFamily(), ResponseGenerator(model, cfg, words, words))
    rng = np.random.default_rng(2)
    posts = [[f"w{i}" for i in rng.integers(4, VOCAB, size=POST_LEN)] for _ in range(num_posts)]
    jobs = [(p, e) for p in posts for e in emotions.GENERATED]
    predictor.predict([posts[0]], [1])  # trace
    best = {"single": float("inf"), "batched": float("inf")}
    out = {}
    for _ in range(rounds):
        for kind in ("single", "batched"):
            start = time.perf_counter()
            if kind == "single":
                out[kind] = [predictor.predict([p], [e])[0] for p, e in jobs]
            else:
                out[kind] = predictor.predict([p for p, _ in jobs], [e for _, e in jobs])
            best[kind] = min(best[kind], time.perf_counter() - start)
    same = sum(a["response"] == b["response"] for a, b in zip(out["single"], out["batched"]))
    return len(jobs) / best["single"], len(jobs) / best["batched"], same, len(jobs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--batch_posts", type=int, default=16)
    parser.add_argument("--predict_posts", type=int, default=8, help="posts (x 5 emotions) of the predictor "
                        "throughput lines (0: none)")
    parser.add_argument("--predict_beams", default="20,5", help="beam widths of the predictor throughput lines")
    parser.add_argument("--predict_rounds", type=int, default=2, help="alternating rounds, single / batched")
    parser.add_argument("--cerg_configs", default="small,paper", help="CERG sizes to time ('' for none)")
    args = parser.parse_args()

    cfg = ecm_flags.defaults()  # paper sizes: embed 100, hidden 256, 2 layers, emotion 100, all components
    rng = np.random.default_rng(0)
    mask = (rng.random([6, VOCAB]) < 0.02).astype(np.uint8)
    model = factory.create(cfg, VOCAB, VOCAB, mask)
    decode, steps = make_decode(model)

    post = rng.integers(4, VOCAB, size=[1, POST_LEN]).astype(np.int32)
    # The search and the floor's matmul timed in turn (the machine is shared: the ratio counts).
    latency, rate = latency_and_rate(decode, post, np.array([5], np.int32), BEAM, cfg.hidden, args.runs)
    steps_run = int(steps.numpy())
    flops = step_flops_per_row(model, cfg.hidden) * BEAM * steps_run
    floor = flops / rate

    posts = rng.integers(4, VOCAB, size=[args.batch_posts, POST_LEN]).astype(np.int32)
    batched = timed(decode, posts, np.full([args.batch_posts], 5, np.int32), runs=max(2, args.runs // 2))
    throughput = args.batch_posts / batched
    # The same search XLA-compiled (not used in the SavedModel, whose serving function stays uncompiled).
    decode_xla, _ = make_decode(model, jit=True)
    latency_xla = timed(decode_xla, post, np.array([5], np.int32), runs=args.runs)

    settings = (f"ECM vocab {VOCAB} embed {cfg.embed_dim} hidden {cfg.hidden}x{cfg.num_layers} beam {BEAM} "
                f"post {POST_LEN} max_len {MAX_LEN} ({steps_run} steps run), random weights, "
                f"batched {args.batch_posts} posts")
    rows = [
        ("decode_beam20_s_per_post", latency, "s"),
        ("decode_flop_floor_s", floor, "s"),
        ("decode_beam20_posts_per_s_batched", throughput, "posts/s"),
        ("decode_beam20_s_per_post_xla", latency_xla, "s"),
    ]
    common.banner()
    print(f"config: paper: {settings}")
    print(f"matmul rate [{BEAM}x{cfg.hidden}]x[{cfg.hidden}x{VOCAB}]: {rate / 1e9:.1f} GFLOP/s; "
          f"{flops / 1e9:.3f} GFLOP per post")
    print("| metric | value | unit |\n|---|---|---|")
    for metric, value, unit in rows:
        print(f"| {metric} | {value:.4g} | {unit} |")
    print(f"latency / floor = {latency / floor:.1f}x (XLA-compiled search: {latency_xla / floor:.1f}x); batched: {args.batch_posts} posts in {batched:.3f} s")
    records = [common.record("decode", m, v, u, "paper", "ecm", settings=settings) for m, v, u in rows]

    if args.predict_posts:
        from ecm_tf.models.ecm.generator import ROWS_PER_BATCH

        for beam in [int(b) for b in args.predict_beams.split(",") if b]:
            single, batched, same, pairs = predict_throughput(model, beam, args.predict_posts, args.predict_rounds)
            psettings = (f"ECM vocab {VOCAB} hidden {cfg.hidden}x{cfg.num_layers}, random weights, EcmPredictor.predict, "
                         f"{args.predict_posts} posts of {POST_LEN} words x 5 emotions, beam {beam} top {cfg.top_k}, "
                         f"batched: up to {max(1, ROWS_PER_BATCH // beam)} pairs per search")
            print(f"| predict_posts_per_s beam {beam} single | {single:.3g} | posts/s |")
            print(f"| predict_posts_per_s beam {beam} batched | {batched:.3g} | posts/s |")
            print(f"beam {beam}: batched / single = {batched / single:.2f}x; top-1 responses equal: {same}/{pairs}")
            records += [common.record("decode", "predict_posts_per_s", v, "posts/s", "paper", "ecm", beam=beam,
                                      batching=kind, settings=psettings)
                        for kind, v in (("single", single), ("batched", batched))]

    from bench.bench_train import CERG_CONFIGS

    for name in [n for n in args.cerg_configs.split(",") if n]:
        c = CERG_CONFIGS[name]
        seconds = cerg_latency(c, args.runs)
        cerg_settings = (f"CERG layers {c['layers']} hidden {c['hidden']} heads {c['heads']} vocab {c['vocab_size']}, "
                         f"beam 2, post 20 chars, {c['max_chars'] + 1} steps, key/value cache, random weights")
        print(f"| cerg_decode_s_per_response ({name}: {cerg_settings}) | {seconds:.4g} | s |")
        records.append(common.record("decode", "cerg_decode_s_per_response", seconds, "s", name, "cerg",
                                     settings=cerg_settings))
    common.append(records)


if __name__ == "__main__":
    main()
