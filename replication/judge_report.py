"""Collects replication/judge.sh's runs into one JSON and a Markdown table (stdout)."""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ecm_tf import io_utils  # noqa: E402

DATA = {"gold": "NLPCC gold", "silver": "+ silver Weibo", "silver_cped": "+ silver + CPED valid", "cped": "+ CPED valid"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run_dir", default="runs/judge")
    ap.add_argument("--output", default="")
    args = ap.parse_args()
    rows = {}
    for name in sorted(os.listdir(args.run_dir)):
        path = os.path.join(args.run_dir, name, "metrics.json")
        if not os.path.isfile(path):
            continue
        m = io_utils.read_json(path)
        a = m.get("agreement") or {}
        rows[name] = {
            "classifier": m["classifier"], "data": name.split("_", 1)[-1],
            "train_sentences": m["split"]["train"], "best_epoch": (m.get("history") or {}).get("best_epoch"),
            "dev_accuracy": m["dev"]["accuracy"], "dev_macro_f1": m["dev"]["macro_f1"],
            "test_accuracy": m["test"]["accuracy"], "test_macro_f1": m["test"]["macro_f1"],
            "test_f1": m["test"]["f1"],
            "cped_accuracy": a.get("accuracy"), "cped_macro_f1": a.get("macro_f1"), "cped_kappa": a.get("kappa"),
            "cped_emotional_accuracy": a.get("emotional_only_accuracy"), "seconds": m.get("seconds"),
        }
    # the best single network; replication/judge_select.py compares it with ensembles and calibrated biases
    best = max((r for r in rows.values() if r["classifier"] not in ("lexicon", "ensemble")),
               key=lambda r: r["dev_macro_f1"], default=None)
    out = {"runs": rows, "best_by_dev_macro_f1": next((k for k, v in rows.items() if v is best), None)}
    if args.output:
        io_utils.write_json(args.output, out)
    print("| classifier | train data | train sentences | dev macro-F1 | test acc. | test macro-F1 | CPED acc. | CPED macro-F1 | CPED kappa |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        mark = "**" if r is best else ""
        f = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"| {r['classifier']} | {DATA.get(r['data'], r['data'])} | {r['train_sentences']} | {mark}{f(r['dev_macro_f1'])}{mark} "
              f"| {f(r['test_accuracy'])} | {mark}{f(r['test_macro_f1'])}{mark} | {f(r['cped_accuracy'])} "
              f"| {f(r['cped_macro_f1'])} | {f(r['cped_kappa'])} |")


if __name__ == "__main__":
    main()
