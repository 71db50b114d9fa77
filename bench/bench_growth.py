"""How the ECM training step time grows with vocabulary size, batch size and sequence length.

    python -m bench.bench_growth [--quick] [--steps 2] [--jit on|off] [--png bench/growth.png]

Around the paper configuration (vocabulary 40,000, batch 128, length 20, GRU 256, embeddings 100;
the Trainer and synthetic batches of bench_train.py), one size varies at a time:
vocabulary 5k, 10k, 20k, 40k; batch 16, 32, 64, 128; length 10, 20, 30 (the shared paper point is
measured once). --quick uses tiny sizes around the small configuration instead.
Prints a table, appends `train_step_s` lines (bench "growth", model "ecm", config "paper" or
"small", the sizes and the varied one in "settings") to bench/results.jsonl and draws the three
curves into a PNG (written to a temporary name, then renamed).
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import tensorflow as tf  # noqa: E402

from bench import common  # noqa: E402
from bench.bench_train import CONFIGS, measure  # noqa: E402
from ecm_tf.io_utils import atomic_path  # noqa: E402

SWEEPS = {  # varied setting -> values; the base is CONFIGS["paper"] / CONFIGS["small"]
    "paper": {"vocab_size": [5000, 10000, 20000, 40000], "batch_size": [16, 32, 64, 128], "length": [10, 20, 30]},
    "small": {"vocab_size": [500, 1000, 2000], "batch_size": [4, 8, 16], "length": [5, 10]},
}


def plot(results, base, path):
    """Three panels (one per varied setting) of step seconds; results {varied: [(value, seconds)]}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.5), constrained_layout=True)
    for ax, (varied, points) in zip(axes, results.items()):
        xs, ys = zip(*points)
        ax.plot(xs, ys, "o-")
        ax.plot([base[varied]], [dict(points)[base[varied]]], "r*", markersize=12, label="base")
        ax.set_xlabel(varied)
        ax.set_xticks(xs, [f"{x // 1000}k" if x >= 1000 else str(x) for x in xs])
        ax.set_ylabel("train step (s)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        others = ", ".join(f"{k} {v}" for k, v in base.items() if k in ("vocab_size", "batch_size", "length")
                           and k != varied)
        ax.set_title(others, fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(f"ECM training step time (hidden {base['hidden']}, embed {base['embed_dim']})")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (config small)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps per setting (after the first)")
    parser.add_argument("--jit", choices=("on", "off"), default="on")
    parser.add_argument("--png", default=str(REPO / "bench" / "growth.png"))
    args = parser.parse_args()
    tf.get_logger().setLevel("ERROR")  # a new Trainer per setting: TensorFlow warns about retracing
    name = "small" if args.quick else "paper"
    base = CONFIGS[name]
    common.banner()
    print(f"base ({name}): " + " ".join(f"{k}={v}" for k, v in base.items()) + f" jit={args.jit}")
    header = f"{'varied':<11} {'vocab':>7} {'batch':>6} {'length':>6} {'step s':>8} {'pairs/s':>8} {'1st step s':>10}"
    print(header)
    print("-" * len(header), flush=True)
    measured = {}  # (vocab, batch, length) -> step seconds
    results, records = {}, []
    for varied, values in SWEEPS[name].items():
        results[varied] = []
        for value in values:
            c = dict(base, **{varied: value})
            key = (c["vocab_size"], c["batch_size"], c["length"])
            if key not in measured:
                pairs, first = measure(c, "ecm", args.jit == "on", args.steps)
                measured[key] = c["batch_size"] / pairs
                print(f"{varied:<11} {key[0]:>7} {key[1]:>6} {key[2]:>6} {measured[key]:8.3f} {pairs:8.1f} "
                      f"{first:10.1f}", flush=True)
                settings = f"vary={varied} " + " ".join(f"{k}={v}" for k, v in c.items()) + f" jit={args.jit}"
                records.append(common.record("growth", "train_step_s", measured[key], "s", name, "ecm",
                                             settings=settings))
            results[varied].append((value, measured[key]))
    common.append(records)
    plot(results, base, args.png)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
