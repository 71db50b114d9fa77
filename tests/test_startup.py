"""Quiet start-up: the CPU-machine CUDA lines of TensorFlow's import are dropped, nothing else."""

import os
import subprocess
import sys

from conftest import REPO
from ecm_tf import startup

CPU_MACHINE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796119929.815043    2407 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.",
    "I0000 00:00:1796119929.815578    2407 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will "
    "not be used.",
    "E0000 00:00:1796119930.758518    2407 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed "
    "call to cuInit: UNKNOWN ERROR (303)",
]


def test_known_cpu_machine_lines_are_dropped_and_others_kept():
    other = "E0000 00:00:1796119930.9    2407 some_op.cc:10] a real error"
    assert startup.shown_lines(CPU_MACHINE + [other, "Traceback (most recent call last):"]) == [
        other, "Traceback (most recent call last):"]


def test_cuinit_failure_is_kept_when_a_driver_is_present():
    """A machine with a CUDA driver whose cuInit fails has a real problem: the line stays."""
    lines = [CPU_MACHINE[0], CPU_MACHINE[3]]
    assert startup.shown_lines(lines) == [CPU_MACHINE[3]]


def test_train_command_starts_quietly(tmp_path):
    """With TensorFlow's default log level of the command line (no TF_CPP_MIN_LOG_LEVEL given)."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "ECM_TF_SHOW_STARTUP")}
    env["PYTHONPATH"] = str(REPO)
    args = ["--mode=train", "--flagfile=flags/smoke.flags", f"--data_dir={REPO / 'tfrecords' / 'fixture'}",
            f"--model_dir={tmp_path / 'm'}", "--bucket_boundaries=", "--batch_size=4", "--max_steps=1"]
    env_free = subprocess.run([sys.executable, "-m", "ecm_tf.main", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600)
    assert env_free.returncode == 0, env_free.stderr[-2000:]
    for fragment in ("cuInit", "cuda drivers", "InitializeLog", "oneDNN custom operations"):
        assert fragment not in env_free.stderr, env_free.stderr
    assert "done: step 1" in env_free.stdout
