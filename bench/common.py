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
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ecm_tf.io_utils import atomic_open  # noqa: E402

RESULTS = REPO / "bench" / "results.jsonl"
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


@functools.lru_cache(maxsize=None)
def machine():
    """E.g. "AMD EPYC, 2 cores" or "..., 16 cores, 1 GPU" (GPUs as TensorFlow sees them)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{cpu_name()}, {os.cpu_count()} cores" + (f", {len(gpus)} GPU" if gpus else "")


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


def append(records, path=RESULTS, quiet=False):
    """Appends `records` as JSON lines to `path` atomically (old text + new lines, then rename)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if old and not old.endswith("\n"):
        old += "\n"
    with atomic_open(path) as f:
        f.write(old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    if not quiet:
        print(f"appended {len(records)} lines to {os.path.relpath(path)}", flush=True)


def read(path=RESULTS, since=""):
    """Records of `path` whose date is >= `since` (an ISO string as written by now())."""
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
