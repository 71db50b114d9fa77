"""Training throughput of Seq2Seq, ECM and CERG: pairs/s, model FLOPs per pair and share of the matmul peak.

    python -m bench.bench_train [--steps 3] [--configs paper,small] [--models seq2seq,ecm,cerg] [--jit on,off]
                                [--precision float32,mixed_bfloat16] [--batch_sizes 128,512,2048] [--rounds 1]
                                [--device auto|cpu|gpu|/GPU:1] [--timeout 0] [--cerg_steps N] [--cerg_paper_batch 128]
                                [--recurrence scan,rnn]

A setting is one (config, model, batch size, precision, jit, recurrence) combination; --recurrence
picks what runs ECM's decoder cell in training, tf.scan (the default) or keras.layers.RNN (ECMModel;
the table's "loop" column). Each runs in a child process
of its own under `tf.device(--device)`, so that one failing setting (out of memory, a kernel missing
on the device, a crash) becomes one line of the table and one JSON line with its error, and the
others still run. With --rounds N every setting runs once per round, the settings in turn, so that
the slow drift of a shared machine hits all of them alike; the table gives each round's figure and
the median. Lines are appended to bench/results.jsonl (common.RESULTS) as each run finishes.

JSON lines (bench "train", config "paper" or "small", model seq2seq/ecm/cerg, the sizes, precision,
jit=on/off and device in "settings"): train_pairs_per_s, train_target_tokens_per_s (pairs/s x target
positions) and train_matmul_share (model FLOP rate / float32 matmul rate of the device, measured in
the same run, 0..1), from the median of the rounds; with --rounds > 1, also one train_pairs_per_s line
per round (field "round"; the median lines have "round": "median" and the list "rounds"). A failed
setting: train_failed (value 1, field "error"). With both precisions: train_bf16_speedup, mixed_bfloat16
in its fastest jit setting over float32 in its fastest, per config, model and batch size.
Synthetic batches; timings exclude the first (tracing / XLA compiling) step. --precision applies to
Seq2Seq and ECM (CERG trains in float32 only: its bf16 settings are skipped).

CERG at paper size (12 blocks x 768, batch 128) needs ~45 GFLOP per pair, i.e. several minutes
per step on a 2-core CPU: --cerg_steps (default: --steps) sets its timed steps, and
--cerg_paper_batch its batch size (default 128, the paper's; smaller batches run proportionally faster).
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench import common  # noqa: E402
from ecm_tf import flags as ecm_flags  # noqa: E402
from ecm_tf.models.ecm import factory  # noqa: E402
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


def measure(c, model_name, jit, steps, precision="float32", recurrence="scan"):
    """(pairs/s, first step s) of Seq2Seq or ECM training at sizes `c` in `precision` (--precision)."""
    emb, imem, emem = MODELS[model_name]
    cfg = ecm_flags.defaults().replace(
        hidden=c["hidden"], embed_dim=c["embed_dim"], emotion_dim=c["emotion_dim"], batch_size=c["batch_size"],
        use_emb=emb, use_imemory=imem, use_ememory=emem, jit_compile=jit, precision=precision,
        model_dir="/nonexistent")
    rng = np.random.default_rng(1)
    mask = (rng.random((6, c["vocab_size"])) < 0.01).astype(np.uint8)
    mask[:, :4] = 0
    trainer = Trainer(cfg, model_fn=lambda: factory.create(cfg, c["vocab_size"], c["vocab_size"], mask, jit,
                                                           recurrence=recurrence))
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


PRECISIONS = ("float32", "mixed_bfloat16")
BF16 = "mixed_bfloat16"


def device_name(text):
    """"/CPU:0" or "/GPU:1" for --device text ("cpu", "gpu", "/GPU:1", "/device:GPU:0", "auto": the first
    GPU when TensorFlow sees one, else the CPU); ValueError (one line) for an unknown device type or one
    TensorFlow does not see."""
    if text == "auto":
        text = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
    try:
        spec = tf.DeviceSpec.from_string(text if text.startswith("/") else f"/{text}:0")
    except ValueError:
        spec = None
    kind = (spec.device_type or "").upper() if spec else ""
    if kind not in ("CPU", "GPU"):
        raise ValueError(f"--device={text}: unknown device (cpu, gpu, /GPU:<n>)")
    index = spec.device_index or 0
    seen = tf.config.list_physical_devices(kind)
    if index >= len(seen):
        raise ValueError(f"--device={text}: TensorFlow sees {len(seen)} {kind} device(s) on this machine")
    return f"/{kind}:{index}"


def grow_gpu_memory():
    """GPU memory taken as needed, not all at once: the parent measures the matmul rate on the device
    its children train on."""
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)


def run_one(spec):
    """One setting in this process (the child's side): {"pairs", "first"}, or {"error"} in one line."""
    try:
        grow_gpu_memory()
        with tf.device(spec["device"]):
            if spec["model"] == "cerg":
                pairs, first = measure_cerg(spec["sizes"], spec["jit"], spec["steps"])
            else:
                pairs, first = measure(spec["sizes"], spec["model"], spec["jit"], spec["steps"], spec["precision"],
                                       spec["recurrence"])
        return {"pairs": pairs, "first": first}
    except Exception as e:  # noqa: BLE001  (the parent reports it as the setting's line)
        first_line = (str(e).strip().splitlines() or [""])[0]
        return {"error": f"{type(e).__name__}: {first_line}"[:300]}


def run_child(spec, timeout=0):
    """One setting in a child process (`--child`): run_one's answer; a child that dies, hangs past
    `timeout` seconds or answers nothing is an error too."""
    cmd = [sys.executable, "-m", "bench.bench_train", "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout or None)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = proc.stdout.strip().splitlines()
    if lines and lines[-1].startswith("{"):
        return json.loads(lines[-1])
    last = [line for line in proc.stderr.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return {"error": f"child exited with {proc.returncode}: {last[0].strip()[:300]}"}


def settings_of(args):
    """The settings of a run: dicts of config, model, precision, jit, sizes (batch size included),
    FLOPs per pair and target length, in the order they run within a round."""
    out = []
    for cname in args.configs.split(","):
        for mname in args.models.split(","):
            if mname == "cerg":
                c = dict(CERG_CONFIGS[cname])
                if cname == "paper":
                    c["batch_size"] = args.cerg_paper_batch
            else:
                c = dict(CONFIGS[cname])
            for batch in ([int(b) for b in args.batch_sizes.split(",")] if args.batch_sizes else [c["batch_size"]]):
                sizes = dict(c, batch_size=batch)
                if mname == "cerg":
                    flops, target_len = cerg_flops_per_pair(sizes), sizes["max_chars"] + 1
                else:
                    flops, target_len = flops_per_pair(sizes, *MODELS[mname]), sizes["length"]
                for precision in args.precision.split(","):
                    if mname == "cerg" and precision != "float32":
                        print(f"note: CERG trains in float32 only; {cname} cerg batch {batch} {precision} skipped")
                        continue
                    for jit in args.jit.split(","):
                        for recurrence in (args.recurrence.split(",") if mname != "cerg" else ["scan"]):
                            out.append(dict(config=cname, model=mname, precision=precision, jit=jit, sizes=sizes,
                                            flops=flops, target_len=target_len, recurrence=recurrence))
    return out


def _recurrence(s):
    """' recurrence=rnn' for the keras.layers.RNN setting; the default (tf.scan) is not named."""
    return f" recurrence={s['recurrence']}" if s["recurrence"] != "scan" else ""


def label(s):
    return f"{s['config']} {s['model']} batch {s['sizes']['batch_size']} {s['precision']} jit={s['jit']}" + _recurrence(s)


def settings_text(s, device):
    return " ".join(f"{k}={v}" for k, v in s["sizes"].items()) + f" precision={s['precision']} jit={s['jit']} " \
        f"device={device}" + _recurrence(s)


def speedups(settings, medians):
    """[(config, model, batch, ratio, index of the bf16 setting, index of the float32 one)]: mixed_bfloat16
    in its fastest jit setting over float32 in its fastest, where both ran (medians: index -> pairs/s)."""
    best = {}
    for i, s in enumerate(settings):
        if i in medians:
            key = (s["config"], s["model"], s["sizes"]["batch_size"], s["precision"])  # fastest jit and recurrence
            if key not in best or medians[i] > medians[best[key]]:
                best[key] = i
    out = []
    for (cname, mname, batch, precision), i in best.items():
        if precision == BF16 and (cname, mname, batch, "float32") in best:
            j = best[(cname, mname, batch, "float32")]
            out.append((cname, mname, batch, medians[i] / medians[j], i, j))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per setting")
    parser.add_argument("--cerg_steps", type=int, default=0, help="timed steps of CERG (0: --steps)")
    parser.add_argument("--cerg_paper_batch", type=int, default=128, help="batch size of CERG at paper size")
    parser.add_argument("--configs", default="paper,small")
    parser.add_argument("--models", default="seq2seq,ecm,cerg")
    parser.add_argument("--jit", default="on,off")
    parser.add_argument("--precision", default="float32", help="comma-separated: " + ",".join(PRECISIONS))
    parser.add_argument("--batch_sizes", default="", help="comma-separated batch sizes (default: each config's own)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; each runs every setting once")
    parser.add_argument("--device", default="auto",
                        help="cpu, gpu (the first GPU), /GPU:<n>, or auto: the first GPU when TensorFlow sees one")
    parser.add_argument("--timeout", type=int, default=0, help="seconds one setting may take (0: no limit)")
    parser.add_argument("--recurrence", default="scan", help="comma-separated: scan, rnn (ECM's decoder in training)")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # one setting, run by the parent (JSON)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(json.loads(args.child))), flush=True)
        return 0
    for name, values, allowed in (("configs", args.configs, CONFIGS), ("models", args.models, MODELS),
                                  ("jit", args.jit, ("on", "off")), ("precision", args.precision, PRECISIONS),
                                  ("recurrence", args.recurrence, ("scan", "rnn"))):
        unknown = [v for v in values.split(",") if v not in allowed]
        if unknown:
            parser.error(f"--{name}: unknown {', '.join(unknown)} (one of {', '.join(allowed)})")
    try:
        if args.batch_sizes and min(int(b) for b in args.batch_sizes.split(",")) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--batch_sizes={args.batch_sizes}: comma-separated positive integers")
    if args.rounds < 1 or args.steps < 1:
        parser.error("--rounds and --steps: at least 1")
    try:
        device = device_name(args.device)
    except ValueError as e:
        sys.exit(f"bench_train: {e}")  # one line, before any setting runs
    results = common.RESULTS
    grow_gpu_memory()
    with tf.device(device):
        peak = common.matmul_rate()
    common.banner(f"device {device}; float32 matmul {peak / 1e9:.1f} GFLOP/s (2048^3)")
    settings = settings_of(args)
    figures = {i: [] for i in range(len(settings))}
    errors = {}
    for r in range(1, args.rounds + 1):
        for i, s in enumerate(settings):
            if i in errors:
                continue
            steps = args.cerg_steps or args.steps if s["model"] == "cerg" else args.steps
            spec = dict(sizes=s["sizes"], model=s["model"], precision=s["precision"], jit=s["jit"] == "on",
                        steps=steps, device=device, recurrence=s["recurrence"])
            out = run_child(spec, args.timeout)
            common_fields = dict(settings=settings_text(s, device), precision=s["precision"],
                                 gflop_per_pair=round(s["flops"] / 1e9, 4))
            if "error" in out:
                errors[i] = out["error"]
                print(f"round {r}: {label(s)}: FAILED {out['error']}", flush=True)
                common.append([common.record("train", "train_failed", 1, "count", s["config"], s["model"],
                                             error=out["error"], **common_fields)], quiet=True)
                continue
            figures[i].append(out["pairs"])
            print(f"round {r}: {label(s)}: {out['pairs']:.1f} pairs/s (first step {out['first']:.1f} s)", flush=True)
            if args.rounds > 1:  # each round's figure as it comes, so a run cut short keeps what it measured
                common.append([common.record("train", "train_pairs_per_s", out["pairs"], "pairs/s", s["config"],
                                             s["model"], round=r, **common_fields)], quiet=True)
            if r == args.rounds:
                pairs = statistics.median(figures[i])
                extra = dict(round="median", rounds=[round(x, 2) for x in figures[i]]) if args.rounds > 1 else {}
                rows = (("train_pairs_per_s", pairs, "pairs/s"),
                        ("train_target_tokens_per_s", pairs * s["target_len"], "tokens/s"),
                        ("train_matmul_share", pairs * s["flops"] / peak, "fraction"))
                common.append([common.record("train", metric, value, unit, s["config"], s["model"], **common_fields,
                                             **extra) for metric, value, unit in rows], quiet=True)
    medians = {i: statistics.median(v) for i, v in figures.items() if v and i not in errors}
    header = (f"{'config':<7} {'model':<8} {'batch':>5} {'precision':<14} {'jit':<4} {'loop':<4} {'pairs/s':>9} {'tokens/s':>9} "
              f"{'GFLOP/pair':>10} {'matmul share':>12}  rounds")
    print("\n" + header)
    print("-" * len(header))
    for i, s in enumerate(settings):
        lead = (f"{s['config']:<7} {s['model']:<8} {s['sizes']['batch_size']:>5} {s['precision']:<14} "
                f"{s['jit']:<4} {s['recurrence']:<4} ")
        if i in errors:
            print(lead + f"FAILED: {errors[i]}")
            continue
        pairs = medians[i]
        print(lead + f"{pairs:9.1f} {pairs * s['target_len']:9.0f} {s['flops'] / 1e9:10.3f} "
              f"{pairs * s['flops'] / peak:12.1%}  " + " ".join(f"{x:.1f}" for x in figures[i]))
    ratios = speedups(settings, medians)
    for cname, mname, batch, ratio, b, f in ratios:
        sb, sf = settings[b], settings[f]
        print(f"ratio {BF16} / float32, {cname} {mname} batch {batch}: {ratio:.2f}x "
              f"({BF16} jit={sb['jit']} {medians[b]:.1f} / float32 jit={sf['jit']} {medians[f]:.1f} pairs/s)")
        common.append([common.record(
            "train", "train_bf16_speedup", ratio, "ratio", cname, mname, device=device,
            settings=f"batch_size={batch} {BF16} jit={sb['jit']} / float32 jit={sf['jit']} device={device}",
            rounds=args.rounds)], quiet=True)
    shown = results.relative_to(REPO) if results.resolve().is_relative_to(REPO) else results
    print(f"results appended to {shown}" + (f"; {len(errors)} setting(s) failed" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
