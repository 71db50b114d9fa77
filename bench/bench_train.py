"""Training throughput of Seq2Seq, ECM and CERG: pairs/s, model FLOPs per pair and share of the matmul peak.

    python -m bench.bench_train [--steps 3] [--configs paper,small] [--models seq2seq,ecm,cerg] [--jit on,off]
                                [--cerg_steps N] [--cerg_paper_batch 128]

Prints a table (machine, TF version, figures) and appends JSON lines to bench/results.jsonl
(bench "train", config "paper" or "small", model seq2seq/ecm/cerg, the sizes and jit=on/off in
"settings"): train_pairs_per_s, train_target_tokens_per_s (pairs/s x target positions) and
train_matmul_share (model FLOP rate / float32 matmul rate of this machine, measured in the same
run, 0..1). Synthetic batches; timings exclude the first (tracing / XLA compiling) step.

CERG at paper size (12 blocks x 768, batch 128) needs ~45 GFLOP per pair, i.e. several minutes
per step on a 2-core CPU: --cerg_steps (default: --steps) sets its timed steps, and
--cerg_paper_batch its batch size (default 128, the paper's; smaller batches run proportionally faster).
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench import common  # noqa: E402
from ecm_tf import flags as ecm_flags  # noqa: E402
from ecm_tf.models.ecm import ecm_model  # noqa: E402
from ecm_tf.models.ecm.trainer import Trainer  # noqa: E402

CONFIGS = {
    "paper": dict(batch_size=128, length=20, vocab_size=40000, hidden=256, embed_dim=100, emotion_dim=100),
    "small": dict(batch_size=16, length=10, vocab_size=2000, hidden=32, embed_dim=16, emotion_dim=16),
}
# CERG: flags/cerg_paper.flags and flags/cerg_small.flags (joint character vocabulary 13590).
CERG_CONFIGS = {
    "paper": dict(batch_size=128, layers=12, hidden=768, heads=12, vocab_size=13590, max_chars=32),
    "small": dict(batch_size=32, layers=3, hidden=128, heads=4, vocab_size=13590, max_chars=32),
}
MODELS = {"seq2seq": (False, False, False), "ecm": (True, True, True), "cerg": None}  # (emb, imem, emem)


def flops_per_pair(c, emb, imem, emem, num_layers=2):
    """Analytic training FLOPs of one Seq2Seq/ECM pair (matmuls only, 2 per multiply-add, backward = 2x forward)."""
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


def cerg_flops_per_pair(c):
    """Analytic training FLOPs of one CERG pair (matmuls only, 2 per multiply-add, backward = 2x forward).

    Sequence [emotion] post(P) [SEP] response(R): L = 2P + 2 = 66 positions (P = R = 32). Per position
    and block: Q, K, V, O projections 4 H^2 and the FFN H -> 4H -> H 8 H^2 multiply-adds, plus the
    attention scores and context 2 L H. Logits (output layer tied to the embeddings) on the R + 1 = 33
    target positions. The substitute masked LM (replacement.py: one bidirectional block, same H,
    logits at all L positions) runs forward once for the replacement and forward + backward for its
    own loss.
    """
    h, n, v, p = c["hidden"], c["layers"], c["vocab_size"], c["max_chars"]
    seq, targets = 2 * p + 2, p + 1
    block = 2 * (4 * h * h + 8 * h * h) + 2 * 2 * seq * h  # per position
    cerg = seq * n * block + targets * 2 * h * v
    mlm = seq * block + seq * 2 * h * v
    return 3 * cerg + 4 * mlm


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


def cerg_batch(c, seed=0):
    """Full-length character pairs as cerg/data.py to_arrays makes them: post/response [B, P], target [B, P + 1]."""
    from ecm_tf.models.cerg import char_vocab

    rng = np.random.default_rng(seed)
    b, p, v = c["batch_size"], c["max_chars"], c["vocab_size"]
    response = rng.integers(char_vocab.FIRST_CHAR_ID, v, size=(b, p)).astype(np.int32)
    return {
        "emotion": rng.integers(0, 6, size=[b]).astype(np.int32),
        "post": rng.integers(char_vocab.FIRST_CHAR_ID, v, size=(b, p)).astype(np.int32),
        "response": response,
        "target": np.concatenate([response, np.full([b, 1], char_vocab.EOS_ID, np.int32)], axis=1),
    }


def timed_steps(step, batch, steps, loss_of):
    """(seconds of `steps` steps after the first, seconds of the first step)."""
    t = time.perf_counter()
    float(loss_of(step(batch)))
    first = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(steps):
        out = step(batch)
    float(loss_of(out))
    return time.perf_counter() - t, first


def measure(c, model_name, jit, steps):
    """(pairs/s, first step s) of Seq2Seq or ECM training at sizes `c`."""
    emb, imem, emem = MODELS[model_name]
    cfg = ecm_flags.defaults().replace(
        hidden=c["hidden"], embed_dim=c["embed_dim"], emotion_dim=c["emotion_dim"], batch_size=c["batch_size"],
        use_emb=emb, use_imemory=imem, use_ememory=emem, jit_compile=jit, model_dir="/nonexistent")
    rng = np.random.default_rng(1)
    mask = (rng.random((6, c["vocab_size"])) < 0.01).astype(np.uint8)
    mask[:, :4] = 0
    trainer = Trainer(cfg, model_fn=lambda: ecm_model.create(cfg, c["vocab_size"], c["vocab_size"], mask))
    batch = {k: tf.constant(v) for k, v in synthetic_batch(c).items()}
    seconds, first = timed_steps(trainer.train_step, batch, steps, lambda out: out["loss"])
    return c["batch_size"] * steps / seconds, first


def measure_cerg(c, jit, steps):
    """(pairs/s, first step s) of CERG training (with its substitute masked LM) at sizes `c`."""
    from ecm_tf.models.cerg import trainer as cerg_train

    cfg = ecm_flags.defaults().replace(
        model="cerg", cerg_layers=c["layers"], cerg_hidden=c["hidden"], cerg_heads=c["heads"],
        cerg_max_chars=c["max_chars"], batch_size=c["batch_size"], jit_compile=jit, vocab_size=c["vocab_size"],
        model_dir="/nonexistent")
    trainer = cerg_train.Trainer(cfg, c["vocab_size"])
    batch = {k: tf.constant(v) for k, v in cerg_batch(c).items()}
    seconds, first = timed_steps(trainer.train_step, batch, steps, lambda out: out["loss"])
    return c["batch_size"] * steps / seconds, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per setting")
    parser.add_argument("--cerg_steps", type=int, default=0, help="timed steps of CERG (0: --steps)")
    parser.add_argument("--cerg_paper_batch", type=int, default=128, help="batch size of CERG at paper size")
    parser.add_argument("--configs", default="paper,small")
    parser.add_argument("--models", default="seq2seq,ecm,cerg")
    parser.add_argument("--jit", default="on,off")
    args = parser.parse_args()
    peak = common.matmul_rate()
    common.banner(f"float32 matmul {peak / 1e9:.1f} GFLOP/s (2048^3)")
    header = (f"{'config':<7} {'model':<8} {'jit':<4} {'pairs/s':>9} {'tokens/s':>9} {'GFLOP/pair':>10} "
              f"{'matmul share':>12} {'1st step s':>10}")
    print(header)
    print("-" * len(header), flush=True)
    count = 0
    for cname in args.configs.split(","):
        for mname in args.models.split(","):
            if mname == "cerg":
                c = dict(CERG_CONFIGS[cname])
                if cname == "paper":
                    c["batch_size"] = args.cerg_paper_batch
                flops, target_len = cerg_flops_per_pair(c), c["max_chars"] + 1
            else:
                c = CONFIGS[cname]
                flops, target_len = flops_per_pair(c, *MODELS[mname]), c["length"]
            for jit in args.jit.split(","):
                if mname == "cerg":
                    pairs, first = measure_cerg(c, jit == "on", args.cerg_steps or args.steps)
                else:
                    pairs, first = measure(c, mname, jit == "on", args.steps)
                share = pairs * flops / peak
                print(f"{cname:<7} {mname:<8} {jit:<4} {pairs:9.1f} {pairs * target_len:9.0f} {flops / 1e9:10.3f} "
                      f"{share:12.1%} {first:10.1f}", flush=True)
                settings = " ".join(f"{k}={v}" for k, v in c.items()) + f" jit={jit}"
                rows = (("train_pairs_per_s", pairs, "pairs/s"),
                        ("train_target_tokens_per_s", pairs * target_len, "tokens/s"),
                        ("train_matmul_share", share, "fraction"))
                # Appended per setting, so that a long run that fails later keeps what it measured.
                common.append([common.record("train", metric, value, unit, cname, mname, settings=settings,
                                             gflop_per_pair=round(flops / 1e9, 4)) for metric, value, unit in rows],
                              quiet=True)
                count += len(rows)
    print(f"appended {count} lines to {common.RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
