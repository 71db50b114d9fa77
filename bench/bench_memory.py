"""Peak resident memory of ECM alone at the paper size: training and decoding, each in its own process.

    python -m bench.bench_memory [--config paper|small] [--steps 2] [--jit on|off] [--batch_posts 16]

The suite's train and decode benches run several models in one process (train: Seq2Seq, ECM and
CERG 12 x 768; decode: ECM and CERG), so their peak_rss_mb lines are those of all of them. Here
each child process does one thing, and its peak RSS (os.wait4, ru_maxrss) is ECM's alone:
  - train: bench_train's `measure` (the package's ECM Trainer on synthetic batches) for --steps
    steps, paper config (batch 128, length 20, vocabulary 40,000, GRU 256 x 2), XLA as --jit;
  - decode: bench_decode's served beam-20 search (graph mode) of one post, then of --batch_posts
    posts at once (random-weight paper ECM).
Appends peak_rss_mb lines (bench "memory", model "ecm", `task` train / decode, the sizes in
`settings`, `seconds` the child's run time).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench import common  # noqa: E402


def child_train(args):
    from bench import bench_train

    pairs_per_s, _ = bench_train.measure(bench_train.CONFIGS[args.config], "ecm", args.jit == "on", args.steps)
    print(f"train: {pairs_per_s:.1f} pairs/s", flush=True)


def child_decode(args):
    import numpy as np

    from bench import bench_decode
    from ecm_tf import flags as ecm_flags
    from ecm_tf.models.ecm import factory

    vocab = bench_decode.VOCAB
    mask = (np.random.default_rng(0).random([6, vocab]) < 0.02).astype(np.uint8)
    decode, _ = bench_decode.make_decode(factory.create(ecm_flags.defaults(), vocab, vocab, mask))
    rng = np.random.default_rng(0)
    for batch in (1, args.batch_posts):
        post = rng.integers(4, vocab, size=[batch, bench_decode.POST_LEN]).astype(np.int32)
        seconds = bench_decode.timed(decode, post, np.full([batch], 5, np.int32), runs=1)
        print(f"decode: {batch} post(s) in {seconds:.3f} s", flush=True)


def run_child(task, args):
    """(peak RSS MB, seconds) of `python -m bench.bench_memory --child task ...`."""
    cmd = [sys.executable, "-m", "bench.bench_memory", "--child", task, "--config", args.config,
           "--steps", str(args.steps), "--jit", args.jit, "--batch_posts", str(args.batch_posts)]
    code, rss_mb, seconds = common.run_measured(cmd)
    if code:
        sys.exit(f"bench_memory: the {task} child failed (exit {code})")
    return rss_mb, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=common.CONFIGS, default="paper", help="training sizes (bench_train)")
    parser.add_argument("--steps", type=int, default=2, help="training steps")
    parser.add_argument("--jit", choices=("on", "off"), default="on", help="XLA for training")
    parser.add_argument("--batch_posts", type=int, default=16, help="the decode child's batched search")
    parser.add_argument("--child", choices=("train", "decode"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        (child_train if args.child == "train" else child_decode)(args)
        return

    from bench import bench_train

    c = bench_train.CONFIGS[args.config]
    tasks = {
        "train": (f"ECM training, {args.config}: batch {c['batch_size']} length {c['length']} vocab {c['vocab_size']} "
                  f"hidden {c['hidden']}x2, jit={args.jit}, {args.steps} steps"),
        "decode": (f"ECM beam-20 search (graph mode), paper: vocab 40000 hidden 256x2, one post then "
                   f"{args.batch_posts} posts"),
    }
    measured = {task: run_child(task, args) for task in tasks}
    common.banner()
    print("| task | peak RSS MB | seconds | settings |\n|---|---|---|---|")
    records = []
    for task, (rss, seconds) in measured.items():
        print(f"| {task} | {rss:.0f} | {seconds:.0f} | {tasks[task]} |")
        config = args.config if task == "train" else "paper"
        records.append(common.record("memory", "peak_rss_mb", rss, "MB", config, "ecm", task=task,
                                     settings=tasks[task], seconds=round(seconds, 1)))
    common.append(records)


if __name__ == "__main__":
    main()
