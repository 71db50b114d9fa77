"""Benchmark of the data pipeline: --mode=prep throughput and tf.data input throughput.

    python bench/bench_prep.py [--pairs=100000] [--batch_size=128] [--batches=300]

Prep runs on ~100k pairs: the LCCC toy train file repeated when ../shared/data is present, else
the built-in corpus repeated. Then make_dataset(training=True) is timed over its batches.
Prints a table and appends JSON lines to bench/results.jsonl.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ecm_tf import config  # noqa: E402
from ecm_tf.data import builtin  # noqa: E402
from ecm_tf.data import prep  # noqa: E402

LCCC = REPO.parent / "shared" / "data" / "lccc_toy" / "toy_train.txt"


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
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=100000)
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--batches", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, source = _corpus(tmp, args.pairs)
        cfg = config.defaults().replace(input=src, output_dir=os.path.join(tmp, "data"), dev_fraction=0.0)
        start = time.perf_counter()
        stats = prep.prepare(cfg)
        prep_s = time.perf_counter() - start

        import tensorflow as tf
        from ecm_tf.data import pipeline

        ds = pipeline.make_dataset(cfg.output_dir, "train", cfg, training=True, batch_size=args.batch_size)
        it = iter(ds)
        for _ in range(10):  # warm-up: fill the shuffle buffer and the buckets
            next(it)
        start = time.perf_counter()
        n = sum(int(next(it)["post"].shape[0]) for _ in range(args.batches))
        input_s = time.perf_counter() - start

    machine = f"{platform.machine()} {platform.processor() or platform.system()}, {os.cpu_count()} CPUs, {platform.system()}"
    conf = (f"{source}: {args.pairs} pairs, word level, vocab {cfg.vocab_size}, shards {cfg.num_shards}; "
            f"input: batch {args.batch_size}, buckets {pipeline.boundaries(cfg)}, {args.batches} batches")
    rows = [("prep_pairs_per_s", args.pairs / prep_s, "pairs/s"), ("input_examples_per_s", n / input_s, "examples/s")]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine : {machine} (load average {load}: other processes share the CPUs)")
    print(f"TF      : {tf.__version__}\nconfig  : {conf}")
    print(f"prep    : {args.pairs} pairs in {prep_s:.1f} s (kept {stats['kept']})")
    print(f"{'metric':<24}{'value':>12}  unit")
    for metric, value, unit in rows:
        print(f"{metric:<24}{value:>12.0f}  {unit}")
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with open(REPO / "bench" / "results.jsonl", "a", encoding="utf-8") as f:
        for metric, value, unit in rows:
            f.write(json.dumps({"bench": "bench_prep", "metric": metric, "value": round(value, 1), "unit": unit,
                                "machine": machine, "date": date, "config": conf, "model": "data"}) + "\n")


if __name__ == "__main__":
    main()
