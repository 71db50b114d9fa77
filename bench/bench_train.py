"""Training throughput of Seq2Seq and ECM: pairs/s, model FLOPs per pair and share of the matmul peak.

    python bench/bench_train.py [--steps 3] [--configs paper,small] [--models seq2seq,ecm] [--jit on,off]

Prints a table (machine, TF version, config, figures) and appends one JSON line per figure to
bench/results.jsonl: {"bench", "metric", "value", "unit", "machine", "date", "config", "model"}
with metrics train_pairs_per_s and train_matmul_share. Synthetic batches; timings exclude the
first (tracing / XLA compiling) step.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ecm_tf import config  # noqa: E402
from ecm_tf.io_utils import atomic_open  # noqa: E402
from ecm_tf.models import ecm_model  # noqa: E402
from ecm_tf.training.train import Trainer  # noqa: E402

CONFIGS = {
    "paper": dict(batch_size=128, length=20, vocab_size=40000, hidden=256, embed_dim=100, emotion_dim=100),
    "small": dict(batch_size=16, length=10, vocab_size=2000, hidden=32, embed_dim=16, emotion_dim=16),
}
MODELS = {"seq2seq": (False, False, False), "ecm": (True, True, True)}
RESULTS = REPO / "bench" / "results.jsonl"


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return f"{cpu}, {os.cpu_count()} cores" + (f", {len(gpus)} GPU" if gpus else "")


def matmul_flops_per_s(n=2048, reps=5):
    """Measured float32 matmul rate of this machine (FLOP/s)."""
    a = tf.random.normal([n, n])
    b = tf.random.normal([n, n])
    tf.matmul(a, b).numpy()
    t = time.perf_counter()
    for _ in range(reps):
        c = tf.matmul(a, b)
    c.numpy()
    return reps * 2 * n ** 3 / (time.perf_counter() - t)


def flops_per_pair(c, emb, imem, emem, num_layers=2):
    """Analytic training FLOPs of one pair (matmuls only, 2 per multiply-add, backward = 2x forward)."""
    h, e, v, t, demo = c["hidden"], c["embed_dim"], c["vocab_size"], c["length"], c["emotion_dim"]
    gru = lambda n_in: 2 * 3 * h * (n_in + h)  # noqa: E731
    encoder = t * (gru(e) + (num_layers - 1) * gru(h)) + t * 2 * h * h  # GRUs + attention keys
    side0 = (demo if emb else 0) + (h if imem else 0)
    step = gru(e + h) + 2 * 3 * h * side0 + (num_layers - 1) * gru(h + (h if imem else 0))
    step += 2 * num_layers * h * h + t * 2 * h * 2  # attention query, scores + context
    step += 2 * 2 * h * h + 2 * h * v  # output projection, vocabulary logits
    if imem:
        step += 2 * (e + 2 * h) * h + 2 * h * h  # read and write gates
    if emem:
        step += 2 * h
    return 3 * (encoder + t * step)


def synthetic_batch(c, seed=0):
    rng = np.random.default_rng(seed)
    b, t, v = c["batch_size"], c["length"], c["vocab_size"]
    resp = rng.integers(4, v, size=(b, t)).astype(np.int32)
    resp[:, -1] = 2
    return {
        "post": rng.integers(4, v, size=(b, t)).astype(np.int32), "post_len": np.full([b], t, np.int32),
        "response": resp, "response_len": np.full([b], t, np.int32),
        "emotion": rng.integers(0, 6, size=[b]).astype(np.int32),
        "emotion_word": (rng.random((b, t)) < 0.1).astype(np.float32),
    }


def measure(c, model_name, jit, steps):
    emb, imem, emem = MODELS[model_name]
    cfg = config.defaults().replace(
        hidden=c["hidden"], embed_dim=c["embed_dim"], emotion_dim=c["emotion_dim"], batch_size=c["batch_size"],
        use_emb=emb, use_imemory=imem, use_ememory=emem, jit_compile=jit, model_dir="/nonexistent")
    rng = np.random.default_rng(1)
    mask = (rng.random((6, c["vocab_size"])) < 0.01).astype(np.uint8)
    mask[:, :4] = 0
    trainer = Trainer(cfg, model_fn=lambda: ecm_model.create(cfg, c["vocab_size"], c["vocab_size"], mask))
    batch = {k: tf.constant(v) for k, v in synthetic_batch(c).items()}
    t = time.perf_counter()
    float(trainer.train_step(batch)["loss"])
    first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(steps):
        out = trainer.train_step(batch)
    float(out["loss"])
    return c["batch_size"] * steps / (time.perf_counter() - t), first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per setting")
    parser.add_argument("--configs", default="paper,small")
    parser.add_argument("--models", default="seq2seq,ecm")
    parser.add_argument("--jit", default="on,off")
    args = parser.parse_args()
    where = machine()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    peak = matmul_flops_per_s()
    print(f"machine: {where}; TensorFlow {tf.__version__}; load average {os.getloadavg()[0]:.1f}; "
          f"float32 matmul {peak / 1e9:.1f} GFLOP/s (2048^3)")
    header = f"{'config':<7} {'model':<8} {'jit':<4} {'pairs/s':>9} {'GFLOP/pair':>10} {'matmul share':>12} {'1st step s':>10}"
    print(header)
    print("-" * len(header))
    records = []
    for cname in args.configs.split(","):
        c = CONFIGS[cname]
        for mname in args.models.split(","):
            flops = flops_per_pair(c, *MODELS[mname])
            for jit in args.jit.split(","):
                pairs, first = measure(c, mname, jit == "on", args.steps)
                share = pairs * flops / peak
                print(f"{cname:<7} {mname:<8} {jit:<4} {pairs:9.1f} {flops / 1e9:10.3f} {share:12.1%} {first:10.1f}",
                      flush=True)
                label = f"{cname} " + " ".join(f"{k}={v}" for k, v in c.items()) + f" jit={jit}"
                for metric, value, unit in (("train_pairs_per_s", pairs, "pairs/s"),
                                            ("train_matmul_share", share, "fraction")):
                    records.append({"bench": "train", "metric": metric, "value": round(value, 4), "unit": unit,
                                    "machine": where, "date": date, "config": label, "model": mname})
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    with atomic_open(RESULTS) as f:
        f.write(old + "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    print(f"appended {len(records)} lines to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
