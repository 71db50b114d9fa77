"""TensorFlow's CPU allocator: ECM training with the default allocator against the BFC pool.

    python -m bench.bench_allocator [--config paper|small] [--rounds 2] [--steps 3]

`ecm_tf/__init__.py` sets TF_CPU_ALLOCATOR_USE_BFC=true (unless the variable is already set).
TensorFlow reads it once, when it creates its first tensor, so each setting is timed in its own
child process (bench_train's `measure`: ECM, XLA on, synthetic batches), alternating
default / BFC for `--rounds` rounds so that a change of machine load hits both.
Prints a table and appends `train_pairs_per_s` lines (bench "allocator", settings
`allocator=default|bfc`) and the ratio `allocator_bfc_speedup` (best BFC round / best default
round) to bench/results.jsonl.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

ALLOCATORS = {"default": "false", "bfc": "true"}


def child(config, steps):
    """In the child process: prints one JSON line {"pairs_per_s": ..., "first_step_s": ...}."""
    import tensorflow as tf

    from bench.bench_train import CONFIGS, measure

    tf.get_logger().setLevel("ERROR")
    pairs, first = measure(CONFIGS[config], "ecm", True, steps)
    print(json.dumps({"pairs_per_s": pairs, "first_step_s": first}), flush=True)


def run_child(allocator, config, steps):
    env = dict(os.environ, TF_CPU_ALLOCATOR_USE_BFC=ALLOCATORS[allocator])
    cmd = [sys.executable, "-m", "bench.bench_allocator", "--child", "--config", config, "--steps", str(steps)]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stderr[-3000:])
        raise SystemExit(f"bench_allocator: the child with allocator={allocator} failed (exit {out.returncode})")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=("paper", "small"), default="paper")
    parser.add_argument("--rounds", type=int, default=2, help="default/BFC pairs of runs")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per run (after the first)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.config, args.steps)
        return
    common.banner()
    from bench.bench_train import CONFIGS

    settings = " ".join(f"{k}={v}" for k, v in CONFIGS[args.config].items()) + " jit=on"
    print(f"ECM training ({args.config}: {settings}), one child process per run")
    header = f"{'round':>5} {'allocator':<10} {'pairs/s':>9} {'1st step s':>10}"
    print(header)
    print("-" * len(header), flush=True)
    best = {name: 0.0 for name in ALLOCATORS}
    records = []
    for r in range(1, args.rounds + 1):
        for name in ALLOCATORS:
            res = run_child(name, args.config, args.steps)
            best[name] = max(best[name], res["pairs_per_s"])
            print(f"{r:>5} {name:<10} {res['pairs_per_s']:9.1f} {res['first_step_s']:10.1f}", flush=True)
            records.append(common.record("allocator", "train_pairs_per_s", res["pairs_per_s"], "pairs/s",
                                         args.config, "ecm", settings=f"{settings} allocator={name} round={r}"))
    speedup = best["bfc"] / best["default"]
    print(f"BFC / default (best rounds): {best['bfc']:.1f} / {best['default']:.1f} pairs/s = {speedup:.2f}x")
    records.append(common.record("allocator", "allocator_bfc_speedup", speedup, "ratio", args.config, "ecm",
                                 settings=f"{settings} rounds={args.rounds}"))
    common.append(records)


if __name__ == "__main__":
    main()
