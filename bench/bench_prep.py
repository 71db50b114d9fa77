"""Benchmark of the data pipeline: --mode=prep throughput and tf.data input throughput.

    python -m bench.bench_prep [--pairs=100000] [--batch_size=128] [--batches=300] [--vocab_size=40000]

Prep runs on ~100k pairs: the LCCC toy train file repeated when ../shared/data is present, else
the built-in corpus repeated. Then make_dataset(training=True) is timed over its batches.
Prints a table and appends JSON lines to bench/results.jsonl (bench "prep", model "data"; config
"paper" with the paper's vocabulary of 40000, else "small"): prep_pairs_per_s, input_examples_per_s.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench import common  # noqa: E402
from ecm_tf import flags as ecm_flags  # noqa: E402
from ecm_tf.data import builtin  # noqa: E402
from ecm_tf.data import prep  # noqa: E402
from ecm_tf.classifier import labeller  # noqa: E402

LCCC = REPO.parent / "shared" / "data" / "lccc_toy" / "toy_train.txt"
PAPER_VOCAB = 40000


def _corpus(folder, pairs):
    """Writes ~`pairs` pairs as a TSV file; returns (path, source description)."""
    if LCCC.exists():
        lines = [ln for ln in LCCC.read_text(encoding="utf-8").splitlines() if ln.strip()]
        source = f"LCCC toy train x{-(-pairs // len(lines))}"
    else:
        lines = [f"{p.post}\t{p.response}" for p in builtin.load_pairs()]
        source = f"built-in x{-(-pairs // len(lines))}"
    lines = (lines * (pairs // len(lines) + 1))[:pairs]
    path = os.path.join(folder, "bench.tsv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path, source


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=100000)
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--vocab_size", type=int, default=PAPER_VOCAB)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, source = _corpus(tmp, args.pairs)
        cfg = ecm_flags.defaults().replace(input=src, output_dir=os.path.join(tmp, "data"), dev_fraction=0.0,
                                        vocab_size=args.vocab_size)
        start = time.perf_counter()
        stats = prep.prepare(cfg, labeller.for_config(cfg))
        prep_s = time.perf_counter() - start

        from ecm_tf.data import pipeline

        ds = pipeline.make_dataset(cfg.output_dir, "train", cfg, training=True, batch_size=args.batch_size)
        it = iter(ds)
        for _ in range(10):  # warm-up: fill the shuffle buffer and the buckets
            next(it)
        start = time.perf_counter()
        n = sum(int(next(it)["post"].shape[0]) for _ in range(args.batches))
        input_s = time.perf_counter() - start

    name = "paper" if args.vocab_size == PAPER_VOCAB else "small"
    settings = (f"{source}: {args.pairs} pairs, word level, vocab {cfg.vocab_size}, shards {cfg.num_shards}; "
                f"input: batch {args.batch_size}, buckets {pipeline.boundaries(cfg)}, {args.batches} batches")
    rows = [("prep_pairs_per_s", args.pairs / prep_s, "pairs/s"), ("input_examples_per_s", n / input_s, "examples/s")]
    common.banner()
    print(f"config : {name}: {settings}")
    print(f"prep   : {args.pairs} pairs in {prep_s:.1f} s (kept {stats['kept']})")
    print(f"{'metric':<24}{'value':>12}  unit")
    for metric, value, unit in rows:
        print(f"{metric:<24}{value:>12.0f}  {unit}")
    common.append([common.record("prep", metric, value, unit, name, "data", settings=settings)
                   for metric, value, unit in rows])


if __name__ == "__main__":
    main()
