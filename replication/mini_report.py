"""Collects a replication/replicate_mini.sh run into results JSON, a markdown summary and a curves PNG.

    python replication/mini_report.py --run_dir=runs/mini --output=results/mini_replication.json

Reads RUN/clf_*/metrics.json (Table 2), RUN/<row>/eval.json (Table 4), RUN/logs/<row>.log
(training curves) and RUN/samples_{seq2seq,ecm}.jsonl (Figure 4 style samples). Writes OUTPUT,
OUTPUT with .md (the tables RESULTS.md quotes) and OUTPUT with _curves.png.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common  # noqa: E402
from ecm_tf import io_utils  # noqa: E402

CLASSIFIERS = ("lexicon", "rnn", "lstm", "bilstm")
ROWS = ("seq2seq", "emb", "ecm", "ecm_no_emb", "ecm_no_imem", "ecm_no_emem")
ROW_NAMES = {"seq2seq": "Seq2Seq", "emb": "Emb", "ecm": "ECM", "ecm_no_emb": "ECM w/o Emb",
             "ecm_no_imem": "ECM w/o IMem", "ecm_no_emem": "ECM w/o EMem"}
# ECM (AAAI 2018) Table 2 accuracy and Table 4 perplexity / emotion accuracy.
PAPER_TABLE2 = {"lexicon": 0.432, "rnn": 0.564, "lstm": 0.594, "bilstm": 0.623}
PAPER_TABLE4 = {"seq2seq": (68.0, 0.179), "emb": (62.5, 0.724), "ecm": (65.9, 0.773),
                "ecm_no_emb": (66.1, 0.753), "ecm_no_imem": (66.7, 0.749), "ecm_no_emem": (61.8, 0.731)}
EMOTIONS = ("Like", "Sad", "Disgust", "Angry", "Happy")
TRAIN_LINE = re.compile(r"^step (\d+)/\d+ loss [\d.]+ \(nll ([\d.]+)")
DEV_LINE = re.compile(r"^step (\d+) dev perplexity all ([\d.]+)")


def curves(log_path):
    """{"train": [(step, nll)], "dev": [(step, perplexity)]} from a training log."""
    train, dev = [], []
    if os.path.exists(log_path):
        with open(log_path, encoding="utf-8") as f:
            for line in f:
                if m := TRAIN_LINE.match(line):
                    train.append((int(m.group(1)), float(m.group(2))))
                elif m := DEV_LINE.match(line):
                    dev.append((int(m.group(1)), float(m.group(2))))
    return {"train": sorted(set(train)), "dev": sorted(set(dev))}


def plot(all_curves, path, pretrain_steps):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for row, c in all_curves.items():
        # Fine-tuned rows count steps from 0; draw them after the Seq2Seq pretraining.
        offset = pretrain_steps if row not in ("seq2seq", "seq2seq_pretrain") else 0
        if c["train"]:
            axes[0].plot([s + offset for s, _ in c["train"]], [v for _, v in c["train"]], label=ROW_NAMES.get(row, row))
        if c["dev"]:
            axes[1].plot([s + offset for s, _ in c["dev"]], [v for _, v in c["dev"]], marker="o",
                         label=ROW_NAMES.get(row, row))
    axes[0].set(title="training token NLL (mean over log window)", xlabel="step", ylabel="NLL")
    axes[1].set(title="dev perplexity (LCCC valid)", xlabel="step", ylabel="perplexity")
    for ax in axes:
        ax.axvline(pretrain_steps, color="grey", lw=0.8, ls="--")
        ax.legend(fontsize=8)
    fig.tight_layout()
    with io_utils.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def samples(run_dir):
    """{post: {emotion: {"seq2seq": response, "ecm": response}}} from the decode outputs."""
    out = {}
    for row in ("seq2seq", "ecm"):
        path = os.path.join(run_dir, f"samples_{row}.jsonl")
        if not os.path.exists(path):
            continue
        for line in io_utils.read_lines(path):
            if line.strip():
                r = json.loads(line)
                out.setdefault(r["post"], {}).setdefault(r["emotion"], {})[row] = r["response"]
    return out


def markdown(report):
    t2, t4 = report["table2"], report["table4"]
    base = report["majority_baseline"]
    lines = ["### Table 2 analogue: emotion classifiers (NLPCC 2013+2014, held-out test split)", "",
             "| classifier | accuracy | macro-F1 | paper accuracy |", "|---|---|---|---|"]
    for c in CLASSIFIERS:
        if c in t2:
            lines.append(f"| {c} | {t2[c]['accuracy']:.3f} | {t2[c]['macro_f1']:.3f} | {PAPER_TABLE2[c]:.3f} |")
    if base:
        lines.append(f"| majority ({base['label']}) | {base['accuracy']:.3f} | {base['macro_f1']:.3f} | |")
    lines += ["", "### Table 4 analogue: LCCC valid split", "",
              "perplexity: the original release's (exp of the mean over responses of each response's mean "
              "token NLL); perplexity (token): exp(total NLL / total tokens)", "",
              "| model | perplexity | perplexity (token) | emotion accuracy | distinct-1 | distinct-2 | "
              "paper perplexity | paper emotion accuracy |",
              "|---|---|---|---|---|---|---|---|"]
    for row in ROWS:
        if row in t4:
            r = t4[row]
            p = PAPER_TABLE4[row]
            token = f"{r['perplexity_token']:.1f}" if r.get("perplexity_token") is not None else "-"
            lines.append(f"| {ROW_NAMES[row]} | {r['perplexity']:.1f} | {token} | {r['emotion_accuracy']:.3f} | "
                         f"{r['distinct1']:.3f} | {r['distinct2']:.3f} | {p[0]} | {p[1]} |")
    per = report.get("emotion_accuracy_per_emotion", {})
    if per:
        lines += ["", "### Emotion accuracy per requested emotion", "",
                  "| model | " + " | ".join(EMOTIONS) + " |", "|---|" + "---|" * len(EMOTIONS)]
        for row in ROWS:
            if row in per:
                lines.append(f"| {ROW_NAMES[row]} | " + " | ".join(f"{per[row][e]:.3f}" for e in EMOTIONS) + " |")
    if report["samples"]:
        lines += ["", "### Sample responses (Figure 4 style; top-1 of the beam)", ""]
        for post, by_emotion in report["samples"].items():
            lines += [f"Post: {post}", "", "| emotion | Seq2Seq | ECM |", "|---|---|---|"]
            for e in EMOTIONS:
                r = by_emotion.get(e, {})
                lines.append(f"| {e} | {r.get('seq2seq', '')} | {r.get('ecm', '')} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run_dir", default="runs/mini")
    parser.add_argument("--output", default="results/mini_replication.json")
    parser.add_argument("--seconds", type=float, default=0.0, help="wall time of the run, for the record")
    args = parser.parse_args()

    table2, baseline = {}, None
    for c in CLASSIFIERS:
        path = os.path.join(args.run_dir, f"clf_{c}", "metrics.json")
        if os.path.exists(path):
            m = io_utils.read_json(path)
            table2[c] = {"accuracy": m["test"]["accuracy"], "macro_f1": m["test"]["macro_f1"],
                         "seconds": m.get("seconds")}
            base = m["majority_baseline_test"]
            baseline = {"label": base["label"], "accuracy": base["accuracy"], "macro_f1": base["macro_f1"]}
    table4, per_emotion = {}, {}
    for row in ROWS:
        path = os.path.join(args.run_dir, row, "eval.json")
        if os.path.exists(path):
            ev = io_utils.read_json(path)
            gen = ev["generation"]["Overall"]
            # eval.json of before issue 14 has only the token-level figure, under "perplexity".
            token_ppl = ev.get("perplexity_token", {}).get("Overall")
            table4[row] = {"perplexity": round(ev["perplexity"]["Overall"], 2),
                           "perplexity_token": round(token_ppl, 2) if token_ppl is not None else None,
                           "perplexity_definition": "response" if token_ppl is not None else "token",
                           "emotion_accuracy": round(gen["emotion_accuracy"], 4),
                           "distinct1": round(gen["distinct_1"], 4), "distinct2": round(gen["distinct_2"], 4),
                           "posts": ev["posts"], "responses": gen["responses"]}
            per_emotion[row] = {e: round(ev["generation"][e]["emotion_accuracy"], 4) for e in EMOTIONS}
    all_curves = {row: curves(os.path.join(args.run_dir, "logs", f"{row}.log"))
                  for row in ("seq2seq",) + ROWS[1:]}
    pretrain = max([s for s, _ in curves(os.path.join(args.run_dir, "logs", "seq2seq_pretrain.log"))["train"]],
                   default=0)
    prep = os.path.join(args.run_dir, "data", "prep_stats.json")
    report = {
        "table2": table2, "majority_baseline": baseline, "table4": table4,
        "emotion_accuracy_per_emotion": per_emotion,
        "paper": {"table2_accuracy": PAPER_TABLE2,
                  "table4": {k: {"perplexity": v[0], "emotion_accuracy": v[1]} for k, v in PAPER_TABLE4.items()}},
        "data": io_utils.read_json(prep) if os.path.exists(prep) else None,
        "pretrain_steps": pretrain,
        "curves": all_curves,
        "samples": samples(args.run_dir),
        "machine": f"{common.cpu_name()}, {os.cpu_count()} cores", "date": common.now(),
        "seconds": args.seconds,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    io_utils.write_json(args.output, report)
    base = os.path.splitext(args.output)[0]
    text = markdown(report)
    with io_utils.atomic_open(base + ".md") as f:
        f.write(text)
    plot(all_curves, base + "_curves.png", pretrain)
    print(text, end="")
    print(f"wrote {args.output}, {base}.md, {base}_curves.png ({args.seconds / 60:.1f} min)")


if __name__ == "__main__":
    main()
