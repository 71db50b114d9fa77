"""The benchmark suite: every bench in turn, then its figures next to the targets.

    python -m bench            # paper configurations, ~15-25 min on 2 CPU cores
    python -m bench --quick    # small / tiny sizes, ~2-3 min (checks that everything runs)
    python -m bench --only train,decode

Runs bench_prep, bench_train, bench_peer, bench_allocator, bench_decode, bench_memory, bench_serving and bench_growth
as subprocesses (their output streams through), measures each one's peak resident memory (os.wait4 -> ru_maxrss, KiB on
Linux) and appends it as a `peak_rss_mb` line to bench/results.jsonl. Then reads back the lines
dated from this run's start and prints them, and the targets:
  - training at the paper config uses >= 70 % of the machine's matmul rate (CPU);
  - ECM training at the paper config runs at >= 50 pairs/s with XLA (CPU);
  - beam-20 decoding takes <= 1.5x its FLOP floor;
  - the input pipeline delivers >= 20x the training pairs/s;
  - on a GPU, training runs at >= 5,000 pairs/s.
Exit status 1 when a bench failed.
"""

import argparse
import os
import sys

CHILD_ENV = dict(os.environ)  # the benches set their own TensorFlow log level
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # this process imports TensorFlow only to name the machine

from bench import common  # noqa: E402

# name, model of its peak_rss_mb line, arguments of the paper run, arguments of --quick.
# Without a GPU the suite times paper-size CERG at batch 32 with one step (batch 128: ~3-4 min a step
# on 2 cores); with one, at the paper's batch 128 (bench_train's defaults).
CPU_CERG = ["--cerg_paper_batch", "32", "--cerg_steps", "1"]
BENCHES = [
    ("prep", "data", [], ["--pairs", "3000", "--batches", "20", "--vocab_size", "2000"]),
    ("train", "all", CPU_CERG, ["--configs", "small", "--steps", "2", "--jit", "off"]),
    # The PyTorch peer (prints a note and exits 0 without torch: pip install -e ".[peer]").
    ("peer", "ecm", [], ["--config", "small", "--steps", "2", "--rounds", "1", "--decode_runs", "1", "--no-compile"]),
    ("allocator", "ecm", [], ["--config", "small", "--rounds", "1", "--steps", "2"]),
    ("decode", "ecm", [], ["--runs", "2", "--batch_posts", "2", "--cerg_configs", "small", "--predict_posts", "2",
                           "--predict_rounds", "1"]),
    # ECM alone (train and decode lines above include CERG): training and decoding, a child process each.
    ("memory", "ecm", [], ["--config", "small", "--steps", "1", "--jit", "off", "--batch_posts", "2"]),
    ("serving", "ecm", [], ["--config", "small", "--runs", "3", "--batch_posts", "4"]),
    ("growth", "ecm", [], ["--quick", "--jit", "off", "--steps", "1"]),
]
QUICK_CONFIG = {"decode": "paper"}  # config of a --quick peak_rss_mb line (default "small")


def run_bench(name, args):
    """Runs bench_<name> with output streaming through; returns (exit code, peak RSS MB, seconds)."""
    cmd = [sys.executable, "-m", f"bench.bench_{name}", *args]
    print(f"\n=== {name}: python -m bench.bench_{name} {' '.join(args)}", flush=True)
    return common.run_measured(cmd, env=CHILD_ENV)


def has_gpu():
    """True when the NVIDIA driver lists a GPU (checked without importing TensorFlow)."""
    folder = "/proc/driver/nvidia/gpus"
    return os.path.isdir(folder) and bool(os.listdir(folder))


def _jit(rec):
    return "jit=on" if "jit=on" in rec.get("settings", "") else "jit=off"


def targets(recs):
    """Rows (target, figure, value text, status) of the suite's targets for this run's records."""
    def pick(metric, models=None):
        found = [r for r in recs if r["metric"] == metric and (models is None or r["model"] in models)
                 and r["bench"] != "allocator"]  # its pairs/s lines are an A/B, not the training figure
        paper = [r for r in found if r["config"] == "paper"]
        return paper or found  # the paper config when measured, else what this run has (--quick)

    rows = []
    for r in pick("train_matmul_share"):
        ok = r["value"] >= 0.70
        rows.append(("train matmul share >= 0.70 (paper, CPU)", f"{r['model']} {r['config']} {_jit(r)}",
                     f"{r['value']:.3f}", ok))
    gpu = any(common.has_gpu(r["machine"]) for r in recs)
    if not gpu:
        for r in pick("train_pairs_per_s", ("ecm",)):
            if _jit(r) == "jit=on":
                rows.append(("ECM training >= 50 pairs/s (paper, CPU, XLA)", f"ecm {r['config']} {_jit(r)}",
                             f"{r['value']:.1f}", r["value"] >= 50))
    latency, floor = pick("decode_beam20_s_per_post"), pick("decode_flop_floor_s")
    if latency and floor:
        ratio = latency[-1]["value"] / floor[-1]["value"]
        rows.append(("beam-20 decode <= 1.5x FLOP floor", f"ecm {latency[-1]['config']} "
                     f"{latency[-1]['value']:.3f} s / {floor[-1]['value']:.3f} s", f"{ratio:.2f}x", ratio <= 1.5))
        xla = pick("decode_beam20_s_per_post_xla")
        if xla:
            ratio = xla[-1]["value"] / floor[-1]["value"]
            rows.append(("beam-20 decode <= 1.5x FLOP floor", f"ecm {xla[-1]['config']} XLA-compiled "
                         f"{xla[-1]['value']:.3f} s", f"{ratio:.2f}x", ratio <= 1.5))
    inputs = pick("input_examples_per_s")
    trains = pick("train_pairs_per_s", ("seq2seq", "ecm"))
    if inputs:
        same = [r for r in trains if r["config"] == inputs[-1]["config"]] or trains
        if same:
            fastest = max(same, key=lambda r: r["value"])
            ratio = inputs[-1]["value"] / fastest["value"]
            rows.append(("input pipeline >= 20x training pairs/s",
                         f"{inputs[-1]['value']:.0f} ex/s ({inputs[-1]['config']}) / {fastest['value']:.1f} pairs/s "
                         f"({fastest['model']} {fastest['config']} {_jit(fastest)})", f"{ratio:.1f}x", ratio >= 20))
    ours, peer = pick("ecm_tf_train_pairs_per_s"), pick("peer_train_pairs_per_s")
    precision = lambda r: r.get("precision", "float32")  # noqa: E731  (lines of before --precision: float32)
    for p in dict.fromkeys(precision(r) for r in ours):  # each precision against the peer's in the same one
        mine = [r for r in ours if precision(r) == p][-1]
        same = [r for r in peer if precision(r) == p]
        if same:
            best = max(same, key=lambda r: r["value"])
            ratio = mine["value"] / best["value"]
            rows.append(("ECM training ecm_tf / PyTorch peer >= 1.5x", f"{p}: {mine['value']:.1f} / "
                         f"{best['value']:.1f} pairs/s ({best.get('variant', '')}, {mine['config']})",
                         f"{ratio:.2f}x", ratio >= 1.5))
    ours, peer = pick("ecm_tf_decode_s_per_post"), pick("peer_decode_s_per_post")
    if ours and peer:
        ratio = peer[-1]["value"] / ours[-1]["value"]
        rows.append(("beam-20 decoding peer / ecm_tf time >= 1.5x", f"{peer[-1]['value']:.3f} s / "
                     f"{ours[-1]['value']:.3f} s", f"{ratio:.2f}x", ratio >= 1.5))
    if not gpu:
        rows.append(("GPU training >= 5,000 pairs/s", "no GPU on this machine", "-", None))
    else:
        for r in pick("train_pairs_per_s", ("seq2seq", "ecm")):
            rows.append(("GPU training >= 5,000 pairs/s", f"{r['model']} {r['config']} {_jit(r)}",
                         f"{r['value']:.0f}", r["value"] >= 5000))
    return rows


def summary(since, quick):
    recs = common.read(since=since)
    print(f"\n=== summary: {len(recs)} lines appended to {common.RESULTS} since {since}")
    if recs:
        print(f"machine: {recs[0]['machine']}")
    header = f"{'bench':<8} {'metric':<34} {'model':<8} {'config':<6} {'value':>11}  {'unit':<10} settings"
    print(header)
    print("-" * len(header))
    for r in recs:
        print(f"{r['bench']:<8} {r['metric']:<34} {r['model']:<8} {r['config']:<6} {r['value']:>11.4g}  "
              f"{r['unit']:<10} {r.get('settings', '')}")
    memory = [r for r in recs if r["bench"] == "memory" and r["metric"] == "peak_rss_mb" and r.get("task")]
    if memory:
        print("\n=== peak resident memory of ECM alone (bench_memory: one child process per task)")
        for r in memory:
            print(f"ECM {r['task']:<7} {r['config']:<6} {r['value']:>8.0f} MB  {r.get('settings', '')}")
    print("\n=== targets" + (" (--quick: small sizes; the targets are for the paper config)" if quick else ""))
    header = f"{'target':<42} {'figure':<62} {'value':>8}  status"
    print(header)
    print("-" * len(header))
    for target, figure, value, ok in targets(recs):
        status = "n/a" if ok is None else ("met" if ok else "NOT met")
        print(f"{target:<42} {figure:<62} {value:>8}  {status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small / tiny sizes (a few minutes)")
    parser.add_argument("--only", default="", help="comma-separated benches: " + ",".join(b[0] for b in BENCHES))
    args = parser.parse_args()
    chosen = set(args.only.split(",")) if args.only else {b[0] for b in BENCHES}
    unknown = chosen - {b[0] for b in BENCHES}
    if unknown:
        parser.error(f"--only: unknown bench {', '.join(sorted(unknown))}")
    since = common.now()
    failed = []
    for name, model, paper_args, quick_args in BENCHES:
        if name not in chosen:
            continue
        bench_args = quick_args if args.quick else paper_args
        if bench_args is CPU_CERG and has_gpu():
            bench_args = []
        code, rss_mb, seconds = run_bench(name, bench_args)
        print(f"=== {name}: exit {code}, {seconds:.0f} s, peak RSS {rss_mb:.0f} MB", flush=True)
        if code:
            failed.append(name)
            continue
        config = QUICK_CONFIG.get(name, "small") if args.quick else "paper"
        common.append([common.record(name, "peak_rss_mb", rss_mb, "MB", config, model,
                                     settings=" ".join(bench_args) or "defaults", seconds=round(seconds, 1))],
                      quiet=True)
    summary(since, args.quick)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
