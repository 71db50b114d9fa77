"""The table at the end of bench/gpu.sh: each step's status, the speed lines of the run, and the
real-data check (final training loss and dev perplexity on the GPU against the CPU, per precision).

    python -m bench.gpu_summary --out runs/gpu_bench --since 2026-12-05T12:00:00+00:00 [--dry_run 1]

Reads OUT/steps.tsv (name, exit code, seconds, limit, start date: written by gpu.sh), the lines of
the results file (common.RESULTS) dated from --since (each shown with the step it came from), and
OUT/train_<side>_<precision>.log. Exit status 1 when a
step failed or timed out.
"""

import argparse
import pathlib
import re
import sys

from bench import common

SIDES, PRECISIONS = ("gpu", "cpu"), ("float32", "mixed_bfloat16")
TIMED_OUT = 124  # timeout's exit status (137 when it had to kill)


def status(code, seconds, limit):
    if code == 0:
        return "ok"
    if code in (TIMED_OUT, 137) and seconds >= limit:
        return f"timed out ({limit} s)"
    return f"FAILED (exit {code})"


def final_figures(log):
    """(loss of the last progress line, dev perplexity "all" of the last evaluation) of a training log,
    None where the log has none."""
    if not log.exists():
        return None, None
    text = log.read_text(encoding="utf-8", errors="replace")
    losses = re.findall(r"^step \d+/\d+ loss ([0-9.]+)", text, re.M)
    devs = re.findall(r"dev perplexity .*?\ball ([0-9.]+)", text)
    return (float(losses[-1]) if losses else None), (float(devs[-1]) if devs else None)


def relative(a, b):
    return f"{(a - b) / b:+.2%}" if a is not None and b not in (None, 0) else "-"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--since", default="")
    parser.add_argument("--dry_run", default="0", help="1: the CPU dry run (both sides ran on the CPU)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    dry = args.dry_run == "1"
    failed = 0
    print("\n=== gpu.sh summary" + (" (--cpu-dry-run: every step on the CPU, small sizes)" if dry else ""))
    print(f"{'step':<24} {'status':<22} {'seconds':>7}")
    starts = []
    for line in (out / "steps.tsv").read_text(encoding="utf-8").splitlines():
        name, code, seconds, limit, start = line.split("\t")
        starts.append((start, name))
        text = status(int(code), int(seconds), int(limit))
        failed += text != "ok"
        print(f"{name:<24} {text:<22} {seconds:>7}")

    recs = common.read(since=args.since)
    print(f"\n=== speed ({len(recs)} lines in {common.RESULTS} since {args.since or 'ever'})")
    if recs:
        print(f"machine: {recs[0]['machine']}")
    step_of = lambda r: max([(s, n) for s, n in starts if s <= r["date"]] or [("", "?")])[1]  # noqa: E731
    for r in recs:
        text = None
        if r["bench"] == "train" and r["metric"] in ("train_pairs_per_s", "train_failed") and r.get("round") in (
                None, "median"):
            sizes = dict(kv.split("=", 1) for kv in r["settings"].split() if "=" in kv)
            value = f"{r['value']:.1f} pairs/s" if r["metric"] == "train_pairs_per_s" else f"FAILED: {r['error']}"
            text = (f"train  {r['config']:<6} batch {sizes.get('batch_size', '?'):>5} "
                    f"{sizes.get('precision', ''):<15} jit={sizes.get('jit', '?'):<4} {value}")
        elif r["metric"] == "train_bf16_speedup":
            text = f"train  {r['config']:<6} bf16 / float32 ({r['settings']}): {r['value']:.2f}x"
        elif r["bench"] == "decode" and r["metric"] in ("decode_beam20_s_per_post", "decode_beam20_s_per_post_xla",
                                                         "decode_flop_floor_s", "decode_beam20_posts_per_s_batched"):
            text = f"decode {r['metric']:<36} {r['value']:.4g} {r['unit']}"
        if text:
            print(f"{step_of(r):<7}{text}")

    print("\n=== real data: the built-in corpus, the same steps on each side" +
          (" (dry run: the 'gpu' side ran on the CPU too)" if dry else ""))
    print(f"{'side':<5} {'precision':<15} {'final loss':>10} {'dev ppl':>9} {'loss vs cpu':>11} {'ppl vs cpu':>10} "
          f"{'ppl vs float32':>14}")
    figures = {(s, p): final_figures(out / f"train_{s}_{p}.log") for s in SIDES for p in PRECISIONS}
    for (side, precision), (loss, ppl) in figures.items():
        cpu_loss, cpu_ppl = figures[("cpu", precision)]
        same_side_ppl = figures[(side, "float32")][1]
        shown = lambda x, fmt: format(x, fmt) if x is not None else "-"  # noqa: E731
        print(f"{side:<5} {precision:<15} {shown(loss, '10.4f'):>10} {shown(ppl, '9.2f'):>9} "
              f"{relative(loss, cpu_loss) if side == 'gpu' else '':>11} {relative(ppl, cpu_ppl) if side == 'gpu' else '':>10} "
              f"{relative(ppl, same_side_ppl) if precision != 'float32' else '':>14}")
    if failed:
        print(f"\n{failed} step(s) did not finish: see {out}/<step>.log")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
