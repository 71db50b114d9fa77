"""Helpers shared by the benchmarks: machine description, matmul rate, result records.

    from bench import common
    rec = common.record("train", "train_pairs_per_s", 28.2, "pairs/s", "paper", "ecm", settings="batch_size=128 ...")
    common.append([rec])  # one JSON line per record, appended to bench/results.jsonl

A record is {"bench", "metric", "value", "unit", "machine", "date", "config", "model", ...extra}:
config is "paper" or "small"; the detailed sizes go into the extra field "settings".
TensorFlow is imported only by the functions that need it.
"""

import datetime
import functools
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ecm_tf.io_utils import atomic_open  # noqa: E402

# The results file; ECM_BENCH_RESULTS names another (bench/gpu.sh's dry run writes into its own folder).
RESULTS = pathlib.Path(os.environ.get("ECM_BENCH_RESULTS") or REPO / "bench" / "results.jsonl")
CONFIGS = ("paper", "small")


def cpu_name():
    """CPU model name from /proc/cpuinfo (else the platform's guess)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


NO_GPU = "no GPU"


def nvidia_smi_gpus():
    """["NVIDIA A100-SXM4-40GB, 40960 MiB, driver 535.104.05", ...] from nvidia-smi; [] without it."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = [[x.strip() for x in line.split(",")] for line in out.splitlines() if line.strip()]
    return [f"{r[0]}, {r[1]}, driver {r[2]}" if len(r) == 3 else ", ".join(r) for r in rows]


@functools.lru_cache(maxsize=None)
def machine():
    """E.g. "AMD EPYC, 2 cores, no GPU" or "..., 16 cores, 1 GPU: NVIDIA A100-SXM4-40GB (nvidia-smi: ...)".

    The GPUs are those TensorFlow sees, named by tf.config.experimental.get_device_details; nvidia-smi's
    view (name, memory, driver) follows when it is installed, also when TensorFlow sees no GPU.
    """
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    text = f"{cpu_name()}, {os.cpu_count()} cores, " + (f"{len(gpus)} GPU: {'; '.join(names)}" if gpus else NO_GPU)
    smi = nvidia_smi_gpus()
    return text + (f" (nvidia-smi: {'; '.join(smi)})" if smi else "")


def has_gpu(machine_text):
    """True when a record's `machine` names a GPU TensorFlow saw (lines of before the GPU naming: "N GPU")."""
    head = machine_text.split(" (nvidia-smi:")[0]
    return "GPU" in head and NO_GPU not in head


def now():
    """UTC time as ISO 8601 to the second (the "date" field; compares as a string)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def matmul_rate(n=2048, reps=5):
    """Measured float32 matmul rate of this machine in FLOP/s: `reps` products [n, n] x [n, n]."""
    import tensorflow as tf

    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    tf.matmul(a, b).numpy()  # warm-up
    start = time.perf_counter()
    for _ in range(reps):
        c = tf.matmul(a, b)
    c.numpy()
    return reps * 2 * n ** 3 / (time.perf_counter() - start)


def run_measured(cmd, env=None):
    """Runs `cmd` (output streaming through) from the repository root; returns (exit code, peak
    resident memory in MB of the child, seconds). Peak RSS: os.wait4's ru_maxrss (KiB on Linux)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.perf_counter() - start


def record(bench, metric, value, unit, config, model, **extra):
    """One result line as a dict, with machine and date filled in; value kept to 6 significant digits."""
    if config not in CONFIGS:
        raise ValueError(f"config must be one of {CONFIGS}, got {config!r} (details go into settings=...)")
    rec = {"bench": bench, "metric": metric, "value": float(f"{float(value):.6g}"), "unit": unit,
           "machine": machine(), "date": now(), "config": config, "model": model}
    rec.update(extra)
    return rec


def append(records, path=None, quiet=False):
    """Appends `records` as JSON lines to `path` (default RESULTS) atomically (old text + new lines, then rename)."""
    path = pathlib.Path(path or RESULTS)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    with atomic_open(path) as f:
        f.write(old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    if not quiet:
        print(f"appended {len(records)} lines to {os.path.relpath(path)}", flush=True)


def read(path=None, since=""):
    """Records of `path` (default RESULTS) whose date is >= `since` (an ISO string as written by now())."""
    path = pathlib.Path(path or RESULTS)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            if str(rec.get("date", "")) >= since:
                out.append(rec)
    return out


def banner(extra=""):
    """One line on the machine, TensorFlow version and load (other processes share the CPUs)."""
    import tensorflow as tf

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {machine()}; TensorFlow {tf.__version__}; load average {load}" + (f"; {extra}" if extra else ""),
          flush=True)
