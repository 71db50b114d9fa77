"""Collects a replication/replicate_mini.sh run into results JSON, a markdown summary and a curves PNG.

    python replication/mini_report.py --run_dir=runs/mini --output=results/mini_replication.json

Reads RUN/clf_*/metrics.json (Table 2), RUN/judge/judge.json (the judge), RUN/<row>/eval.json
(Table 4), RUN/by_source/<row>.<source>/eval.json (Table 4 per held-out source), RUN/logs/<row>.log
(training curves), RUN/samples_{seq2seq,ecm}.jsonl (Figure 4 style samples), RUN/share_<row>.jsonl
with RUN/data/ememory.json (emotion-word share, Figure 4's colouring) and RUN/interaction.csv
(Figure 5). Writes OUTPUT, OUTPUT with .md (the tables RESULTS.md quotes), OUTPUT with _curves.png
and, when RUN/interaction.png exists, OUTPUT with _interaction.png.
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
NAMES6 = ("Other",) + EMOTIONS  # ecm_tf.emotions.NAMES
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
    """One panel per Table 4 row: training NLL (left axis) and dev perplexity (right axis, markers);
    the Seq2Seq pretraining that every fine-tuned row starts from is drawn in grey in each panel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in ROWS if r in all_curves]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8), sharex=True, sharey=True)
    pre = all_curves.get("seq2seq_pretrain", {"train": [], "dev": []})
    twins = []
    for ax, row in zip(axes.flat, rows):
        c = all_curves[row]
        offset = pretrain_steps if row != "seq2seq" else 0
        ax.plot([s for s, _ in pre["train"]], [v for _, v in pre["train"]], color="0.7", lw=1, label="Seq2Seq pretraining")
        ax.plot([s + offset for s, _ in c["train"]], [v for _, v in c["train"]], color="C0", label="train NLL")
        twin = ax.twinx()
        twins.append(twin)
        if pre["dev"]:
            twin.plot([s for s, _ in pre["dev"]], [v for _, v in pre["dev"]], "s", color="0.7", ms=4)
        twin.plot([s + offset for s, _ in c["dev"]], [v for _, v in c["dev"]], "o-", color="C3", ms=5, label="dev perplexity")
        ax.axvline(pretrain_steps, color="grey", lw=0.8, ls="--")
        ax.set_title(ROW_NAMES.get(row, row))
        ax.set(xlabel="step", ylabel="train token NLL")
        twin.set_ylabel("dev perplexity")
        if row == rows[0]:
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = twin.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=8)
    if twins:
        lo = min(t.get_ylim()[0] for t in twins)
        hi = max(t.get_ylim()[1] for t in twins)
        for t in twins:
            t.set_ylim(lo, hi)
    fig.tight_layout()
    with io_utils.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
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


def emotion_word_share(run_dir):
    """{row: {emotion: {"token_share", "responses_with_word", "responses", "distinct"}}}: of the
    responses decoded for a requested emotion, the share of tokens that are external-memory words
    of that emotion (the paper's Figure 4 colouring) and the share of responses holding one."""
    path = os.path.join(run_dir, "data", "ememory.json")
    if not os.path.exists(path):
        return {}
    lists = io_utils.read_json(path)  # six word lists, by emotion id
    words = {NAMES6[i]: set(v) for i, v in enumerate(lists)}
    out = {}
    for row in ("emb", "ecm"):
        share_path = os.path.join(run_dir, f"share_{row}.jsonl")
        if not os.path.exists(share_path):
            continue
        by = {}
        for line in io_utils.read_lines(share_path):
            if line.strip():
                r = json.loads(line)
                by.setdefault(r["emotion"], []).append(r["response"].split())
        out[row] = {}
        for e, responses in by.items():
            vocab = words.get(e, set())
            tokens = sum(len(t) for t in responses)
            hits = sum(w in vocab for t in responses for w in t)
            out[row][e] = {"token_share": round(hits / max(1, tokens), 4),
                           "responses_with_word": round(sum(any(w in vocab for w in t) for t in responses) / max(1, len(responses)), 4),
                           "responses": len(responses), "distinct": len({" ".join(t) for t in responses})}
    return out


def emotion_dependence(run_dir, judge_dir):
    """{row: {...}} of the share decodes (RUN/share_<row>.jsonl, every post x the 5 emotions): how much
    of the emotion accuracy the requested emotion explains. `accuracy`: the judge's label equals the
    requested emotion; `emotion_blind`: the accuracy the same responses would score if each post's
    five responses were handed out to the five emotions at random (the mean over pairs of requested
    emotion e and response made for e' of label == e), i.e. what a model ignoring the requested
    emotion scores with these responses; `responses_per_post`: distinct responses among a post's five."""
    files = {row: os.path.join(run_dir, f"share_{row}.jsonl") for row in ("emb", "ecm")}
    files = {k: v for k, v in files.items() if os.path.exists(v)}
    if not files or not judge_dir or not os.path.isdir(judge_dir):
        return {}
    from ecm_tf.classifier.predictor import load_classifier

    judge = load_classifier(judge_dir, "--classifier_dir")
    out = {}
    for row, path in files.items():
        by_post = {}
        for line in io_utils.read_lines(path):
            if line.strip():
                r = json.loads(line)
                by_post.setdefault(r["post"], {})[r["emotion"]] = r["response"]
        posts = [p for p, by in by_post.items() if all(e in by for e in EMOTIONS)]
        texts = [by_post[p][e] for p in posts for e in EMOTIONS]
        labels = [NAMES6[i] for i in judge.predict(texts)]
        n = len(EMOTIONS)
        acc = blind = 0.0
        for k in range(len(posts)):
            lab = labels[k * n:(k + 1) * n]
            acc += sum(lab[i] == EMOTIONS[i] for i in range(n)) / n
            blind += sum(lab[j] == EMOTIONS[i] for i in range(n) for j in range(n)) / (n * n)
        m = max(1, len(posts))
        out[row] = {"posts": len(posts), "accuracy": round(acc / m, 4), "emotion_blind": round(blind / m, 4),
                    "responses_per_post": round(sum(len({by_post[p][e] for e in EMOTIONS}) for p in posts) / m, 2)}
    return out


def table4_row(ev):
    gen = ev["generation"]["Overall"]
    # eval.json of before the faithfulness settings has only the token-level figure, under "perplexity".
    token_ppl = ev.get("perplexity_token", {}).get("Overall")
    return {"perplexity": round(ev["perplexity"]["Overall"], 2),
            "perplexity_token": round(token_ppl, 2) if token_ppl is not None else None,
            "perplexity_definition": "response" if token_ppl is not None else "token",
            "emotion_accuracy": round(gen["emotion_accuracy"], 4),
            "distinct1": round(gen["distinct_1"], 4), "distinct2": round(gen["distinct_2"], 4),
            "posts": ev["posts"], "responses": gen["responses"], "examples": ev.get("examples")}


# Dev perplexity of each row in the previous mini replication (RESULTS.md, 2026-12-04: 290-312).
V2_PERPLEXITY = {"seq2seq": 290.2, "emb": 307.4, "ecm": 310.7, "ecm_no_emb": 312.1, "ecm_no_imem": 310.6,
                 "ecm_no_emem": 307.8}


def targets(report):
    """The replication's targets, each with its measured value, whether it is met and the sentence
    RESULTS.md quotes."""
    t4, per, out = report["table4"], report["emotion_accuracy_per_emotion"], {}
    if all(r in t4 for r in ("seq2seq", "emb", "ecm")):
        a = [t4[r]["emotion_accuracy"] for r in ("seq2seq", "emb", "ecm")]
        out["emotion accuracy Seq2Seq < Emb < ECM, each gap >= 0.03"] = {
            "value": a, "gaps": [round(a[1] - a[0], 4), round(a[2] - a[1], 4)],
            "met": a[1] - a[0] >= 0.03 and a[2] - a[1] >= 0.03}
    if "ecm" in per:
        n = sum(v >= 0.2 for v in per["ecm"].values())
        out["ECM >= 0.2 on at least 3 of 5 emotions"] = {"value": n, "threshold": 3, "met": n >= 3}
    d = (report.get("decoding") or {}).get("ecm_beam20")
    if d:
        out["ECM distinct-2 >= 0.02 (beam 20, the original search)"] = {
            "value": d["distinct2"], "threshold": 0.02, "met": d["distinct2"] >= 0.02}
    if t4:
        rows = [r for r in ROWS if r in t4 and r in V2_PERPLEXITY]
        out["dev perplexity of every row below its previous run's (290-312)"] = {
            "value": {r: t4[r]["perplexity"] for r in rows}, "threshold": {r: V2_PERPLEXITY[r] for r in rows},
            "met": all(t4[r]["perplexity"] < V2_PERPLEXITY[r] for r in rows)}
    judge = (report.get("judge") or {}).get("chosen")
    if judge:
        out["judge test macro-F1 >= 0.50 (NLPCC split by weibo)"] = {
            "value": judge["test_macro_f1"], "threshold": 0.50, "met": judge["test_macro_f1"] >= 0.50}
    return out


def decoding(run_dir):
    """Figures (replication/diversity.py) of the decode files decode_<name>.jsonl of the run: the
    decoding settings behind each distinct-2."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import diversity

    out = {}
    for name in sorted(os.listdir(run_dir)):
        if name.startswith("decode_") and name.endswith(".jsonl"):
            records = [json.loads(line) for line in io_utils.read_lines(os.path.join(run_dir, name)) if line.strip()]
            out[name[len("decode_"):-len(".jsonl")]] = diversity.figures([r["response"] for r in records])
    return out


def step_curves(run_dir):
    """{row: [(step, emotion accuracy, perplexity, distinct-2)]} of the evaluations at intermediate
    steps (RUN/curve/<row>.<step>.json, a smaller post sample than Table 4's)."""
    folder, out = os.path.join(run_dir, "curve"), {}
    if not os.path.isdir(folder):
        return out
    for name in sorted(os.listdir(folder)):
        if m := re.match(r"^(\w+)\.(\d+)\.json$", name):
            ev = io_utils.read_json(os.path.join(folder, name))
            gen = ev["generation"]
            out.setdefault(m.group(1), []).append(
                {"step": int(m.group(2)), "emotion_accuracy": round(gen["Overall"]["emotion_accuracy"], 4),
                 "perplexity": round(ev["perplexity"]["Overall"], 1), "distinct2": round(gen["Overall"]["distinct_2"], 4),
                 "per_emotion": {e: round(gen[e]["emotion_accuracy"], 3) for e in EMOTIONS}, "posts": ev["posts"]})
    for rows in out.values():
        rows.sort(key=lambda r: r["step"])
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
    judge = report.get("judge") or {}
    if judge.get("runs"):
        lines += ["", "### The judge: NLPCC gold, + silver Weibo, + CPED (same NLPCC test split; agreement with CPED test_split's human labels)", "",
                  "| classifier | train data | train sentences | best epoch | dev macro-F1 | test acc. | test macro-F1 | CPED acc. | CPED macro-F1 | CPED kappa |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in judge["runs"].items():
            b = "**" if name == judge.get("best_by_dev_macro_f1") else ""
            f3 = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731  (the ensemble has no CPED run)
            lines.append(f"| {r['classifier']} | {r['data']} | {r['train_sentences']} | {r['best_epoch'] or '-'} | {b}{r['dev_macro_f1']:.3f}{b} | "
                         f"{r['test_accuracy']:.3f} | {b}{r['test_macro_f1']:.3f}{b} | {f3(r['cped_accuracy'])} | "
                         f"{f3(r['cped_macro_f1'])} | {f3(r['cped_kappa'])} |")
    sel = (judge or {}).get("select")
    if sel:
        lines += ["", "### The judge's candidates (NLPCC dev/test split by weibo)", "",
                  "| members | class bias (Like, Sad, Disgust, Angry, Happy) | dev macro-F1 | dev macro-F1 (bias cross-fitted) | test acc. | test macro-F1 |",
                  "|---|---|---|---|---|---|"]
        for c in sel["candidates"]:
            b = "**" if c.get("chosen") else ""
            lines.append(f"| {b}{' + '.join(c['members'])}{b} | {', '.join(f'{v:+.1f}' for v in c['class_bias'][1:]) if c['calibrated'] else '-'} "
                         f"| {c['dev_macro_f1']:.3f} | {c['dev_select_macro_f1']:.3f} | {c['test_accuracy']:.3f} | {b}{c['test_macro_f1']:.3f}{b} |")
    dec = report.get("decoding") or {}
    if dec:
        lines += ["", "### Decoding settings and diversity (the sampled dev posts x 5 emotions, top-1)", "",
                  "| model, decoding | distinct responses | distinct-1 | distinct-2 | mean length | one-token share |",
                  "|---|---|---|---|---|---|"]
        for name, f in dec.items():
            lines.append(f"| {name} | {f['distinct_responses']} / {f['responses']} | {f['distinct1']:.3f} | "
                         f"{f['distinct2']:.3f} | {f['mean_length']:.2f} | {f['one_token_share']:.3f} |")
    dep = report.get("emotion_dependence") or {}
    if dep:
        lines += ["", "### How much the requested emotion changes the response (share decodes)", "",
                  "| model | posts | emotion accuracy | the same responses, emotion-blind | distinct responses per post (of 5) |",
                  "|---|---|---|---|---|"]
        for row, d in dep.items():
            lines.append(f"| {ROW_NAMES[row]} | {d['posts']} | {d['accuracy']:.3f} | {d['emotion_blind']:.3f} | {d['responses_per_post']:.2f} |")
    sc = report.get("step_curves") or {}
    if sc:
        lines += ["", "### Emotion accuracy and perplexity against fine-tuning steps (smaller post sample)", "",
                  "| model | step | posts | perplexity | emotion accuracy | distinct-2 | " + " | ".join(EMOTIONS) + " |",
                  "|---|---|---|---|---|---|" + "---|" * len(EMOTIONS)]
        for row in ROWS:
            for r in sc.get(row, []):
                lines.append(f"| {ROW_NAMES[row]} | {r['step']} | {r['posts']} | {r['perplexity']:.1f} | {r['emotion_accuracy']:.3f} | "
                             f"{r['distinct2']:.3f} | " + " | ".join(f"{r['per_emotion'][e]:.2f}" for e in EMOTIONS) + " |")
    lines += ["", "### Table 4 analogue: dev split (LCCC valid + CPED valid_split)", "",
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
    by_source = report.get("table4_by_source", {})
    if by_source:
        lines += ["", "### Table 4 per held-out source", "",
                  "| model | source | pairs | perplexity | perplexity (token) | emotion accuracy | distinct-1 | distinct-2 |",
                  "|---|---|---|---|---|---|---|---|"]
        for key, r in by_source.items():
            row, src = key.split(".")
            token = f"{r['perplexity_token']:.1f}" if r.get("perplexity_token") is not None else "-"
            lines.append(f"| {ROW_NAMES[row]} | {src} | {r.get('examples')} | {r['perplexity']:.1f} | {token} | "
                         f"{r['emotion_accuracy']:.3f} | {r['distinct1']:.3f} | {r['distinct2']:.3f} |")
    share = report.get("emotion_word_share", {})
    if share:
        lines += ["", "### Emotion words of the requested emotion in the responses (Figure 4 colouring)", "",
                  "token share / share of responses with one / distinct responses", "",
                  "| model | " + " | ".join(EMOTIONS) + " |", "|---|" + "---|" * len(EMOTIONS)]
        for row, by in share.items():
            lines.append(f"| {ROW_NAMES[row]} | " + " | ".join(
                f"{by[e]['token_share']:.3f} / {by[e]['responses_with_word']:.3f} / {by[e]['distinct']}"
                if e in by else "" for e in EMOTIONS) + " |")
    per = report.get("emotion_accuracy_per_emotion", {})
    if per:
        lines += ["", "### Emotion accuracy per requested emotion", "",
                  "| model | " + " | ".join(EMOTIONS) + " |", "|---|" + "---|" * len(EMOTIONS)]
        for row in ROWS:
            if row in per:
                lines.append(f"| {ROW_NAMES[row]} | " + " | ".join(f"{per[row][e]:.3f}" for e in EMOTIONS) + " |")
    tg = report.get("targets", {})
    if tg:
        lines += ["", "### Replication targets", "", "| target | measured | met |", "|---|---|---|"]
        for name, t in tg.items():
            lines.append(f"| {name} | {t['value']} | {'yes' if t['met'] else 'no'} |")
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
            table4[row] = table4_row(ev)
            per_emotion[row] = {e: round(ev["generation"][e]["emotion_accuracy"], 4) for e in EMOTIONS}
    by_source, per_emotion_by_source = {}, {}
    for row in ROWS:
        for src in ("lccc", "cped"):
            path = os.path.join(args.run_dir, "by_source", f"{row}.{src}", "eval.json")
            if os.path.exists(path):
                ev = io_utils.read_json(path)
                by_source[f"{row}.{src}"] = table4_row(ev)
                per_emotion_by_source[f"{row}.{src}"] = {e: round(ev["generation"][e]["emotion_accuracy"], 4)
                                                         for e in EMOTIONS}
    judge_path = os.path.join(args.run_dir, "judge", "judge.json")
    judge = io_utils.read_json(judge_path) if os.path.exists(judge_path) else None
    if judge and judge.get("best_by_dev_macro_f1"):
        judge["best"] = judge["runs"][judge["best_by_dev_macro_f1"]]
    select_path = os.path.join(args.run_dir, "judge", "judge_select.json")
    if judge and os.path.exists(select_path):
        judge["select"] = io_utils.read_json(select_path)
        name = judge["select"]["judge"]
        pick = [c for c in judge["select"]["candidates"] if c.get("chosen")]
        judge["chosen"] = dict(pick[0], name=name) if pick else None
    all_curves = {row: curves(os.path.join(args.run_dir, "logs", f"{row}.log"))
                  for row in ("seq2seq_pretrain",) + ROWS}
    pretrain = max([s for s, _ in curves(os.path.join(args.run_dir, "logs", "seq2seq_pretrain.log"))["train"]],
                   default=0)
    prep = os.path.join(args.run_dir, "data", "prep_stats.json")
    report = {
        "table2": table2, "majority_baseline": baseline, "table4": table4,
        "emotion_accuracy_per_emotion": per_emotion,
        "table4_by_source": by_source, "emotion_accuracy_per_emotion_by_source": per_emotion_by_source,
        "judge": judge, "emotion_word_share": emotion_word_share(args.run_dir),
        "interaction_csv": (io_utils.read_text(os.path.join(args.run_dir, "interaction.csv"))
                            if os.path.exists(os.path.join(args.run_dir, "interaction.csv")) else None),
        "paper": {"table2_accuracy": PAPER_TABLE2,
                  "table4": {k: {"perplexity": v[0], "emotion_accuracy": v[1]} for k, v in PAPER_TABLE4.items()}},
        "data": io_utils.read_json(prep) if os.path.exists(prep) else None,
        "pretrain_steps": pretrain,
        "curves": all_curves,
        "samples": samples(args.run_dir),
        "decoding": decoding(args.run_dir), "step_curves": step_curves(args.run_dir),
        "emotion_dependence": emotion_dependence(args.run_dir, os.path.join(
            args.run_dir, "judge", (judge or {}).get("select", {}).get("judge", "") if judge else "")),
        "machine": f"{common.cpu_name()}, {os.cpu_count()} cores", "date": common.now(),
        "seconds": args.seconds,
    }
    report["targets"] = targets(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    io_utils.write_json(args.output, report)
    base = os.path.splitext(args.output)[0]
    text = markdown(report)
    with io_utils.atomic_open(base + ".md") as f:
        f.write(text)
    plot(all_curves, base + "_curves.png", pretrain)
    heatmap = os.path.join(args.run_dir, "interaction.png")
    if os.path.exists(heatmap):
        with open(heatmap, "rb") as src, io_utils.atomic_open(base + "_interaction.png", "wb") as dst:
            dst.write(src.read())
    print(text, end="")
    print(f"wrote {args.output}, {base}.md, {base}_curves.png ({args.seconds / 60:.1f} min)")


if __name__ == "__main__":
    main()
