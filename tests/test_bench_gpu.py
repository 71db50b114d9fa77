"""bench/gpu.sh cannot rot: its CPU dry run (every step on the CPU, small sizes) runs here and prints
the table; its summariser reads statuses and training logs right; the script is shellcheck-clean
where shellcheck is installed."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from bench import gpu_summary

REPO = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "gpu.sh"
STEPS = ["env", "smoke", "paper", "sweep", "decode", "prep", "train_gpu_float32", "train_gpu_mixed_bfloat16",
         "train_cpu_float32", "train_cpu_mixed_bfloat16"]


def test_status_and_final_figures(tmp_path):
    assert gpu_summary.status(0, 5, 300) == "ok"
    assert gpu_summary.status(124, 300, 300) == "timed out (300 s)"
    assert gpu_summary.status(1, 5, 300) == "FAILED (exit 1)"
    log = tmp_path / "train.log"
    log.write_text("step 10/20 loss 7.5000 (nll 7.3) ppl 1500.00\nstep 20/20 loss 6.0668 (nll 5.88) ppl 358.43\n"
                   "step 20 dev perplexity all 338.82 Other 330.96\n", encoding="utf-8")
    assert gpu_summary.final_figures(log) == (6.0668, 338.82)
    assert gpu_summary.final_figures(tmp_path / "absent.log") == (None, None)


@pytest.mark.skipif(not shutil.which("shellcheck"), reason="shellcheck is not installed")
def test_the_script_is_shellcheck_clean():
    proc = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.slow
def test_the_cpu_dry_run_runs_every_step_and_prints_the_table(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ECM_BENCH_RESULTS"}  # its own results file
    env["PYTHON"] = sys.executable
    out = tmp_path / "out"
    proc = subprocess.run(["bash", str(SCRIPT), "--cpu-dry-run", "--out", str(out)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = proc.stdout[proc.stdout.index("=== gpu.sh summary"):]
    for step in STEPS:
        assert any(line.split()[:2] == [step, "ok"] for line in table.splitlines()), (step, table)
    speed = [line.split() for line in table.splitlines() if line.startswith(("smoke ", "paper ", "sweep "))]
    assert {s[0] for s in speed} == {"smoke", "paper", "sweep"} and any("bf16" in s for s in speed)
    assert any(line.startswith("decode decode decode_beam20_s_per_post ") for line in table.splitlines())
    rows = [line.split() for line in table.splitlines() if line.startswith(("gpu ", "cpu "))]
    assert [r[:2] for r in rows] == [[s, p] for s in ("gpu", "cpu") for p in ("float32", "mixed_bfloat16")]
    assert all(float(r[2]) > 0 and float(r[3]) > 1 for r in rows)  # final loss and dev perplexity read back
    assert (out / "results.jsonl").exists()  # the dry run leaves bench/results.jsonl alone
