"""Cheap alternatives to the single best network as the judge, chosen on the NLPCC dev split by weibo.

Reads the neural runs of replication/judge.sh (RUN_DIR/*/metrics.json), recomputes the same weibo
split (the runs' --input and seed), and scores on dev and test:
  - each network alone (argmax);
  - the mean of the probabilities of several networks: all networks trained with silver data, and
    the two best of them by dev macro-F1;
  - each of those with a per-class bias on the log-probabilities (for the rare classes), tuned on
    dev by coordinate ascent of dev macro-F1.
A bias tuned on dev flatters dev, so candidates are compared on a cross-fitted dev macro-F1: the
bias is tuned on one half of the dev weibos and scored on the other, both ways (the figure reported
as `dev_select_macro_f1`; for an untuned candidate it equals its dev macro-F1). The winner, when it
is not a single untuned network, is written as an ensemble folder (predictor.EnsembleClassifier:
config.json, members/ copies of its networks, metrics.json) usable by --mode=annotate and
--classifier_dir; its bias is then tuned on the whole dev split.

    python replication/judge_select.py --run_dir=runs/judge --output=runs/judge/judge.json
"""

import argparse
import itertools
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ecm_tf import emotions  # noqa: E402
from ecm_tf import io_utils  # noqa: E402
from ecm_tf.classifier import data as data_lib  # noqa: E402
from ecm_tf.classifier import metrics as metrics_lib  # noqa: E402
from ecm_tf.errors import InputError  # noqa: E402

GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)
ENSEMBLE = "judge_ensemble"


def macro_f1(gold, scores, bias):
    return metrics_lib.evaluate(gold, np.argmax(scores + bias, axis=-1))["macro_f1"]


def tune_bias(gold, scores, passes=3):
    """Per-class additive bias (Other fixed at 0) maximising macro-F1 by coordinate ascent on GRID."""
    bias = np.zeros(emotions.NUM_EMOTIONS)
    best = macro_f1(gold, scores, bias)
    for _ in range(passes):
        changed = False
        for c in range(1, emotions.NUM_EMOTIONS):
            for v in GRID:
                trial = bias.copy()
                trial[c] = v
                f = macro_f1(gold, scores, trial)
                if f > best + 1e-9:
                    best, bias, changed = f, trial, True
        if not changed:
            break
    return bias


def crossfit(gold, scores, halves):
    """Dev macro-F1 of a tuned bias, each half scored with the bias tuned on the other half."""
    pred = np.zeros(len(gold), dtype=np.int64)
    for a, b in (halves, halves[::-1]):
        bias = tune_bias(gold[a], scores[a])
        pred[b] = np.argmax(scores[b] + bias, axis=-1)
    return metrics_lib.evaluate(gold, pred)["macro_f1"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run_dir", default="runs/judge")
    ap.add_argument("--output", default="", help="JSON of every candidate's figures")
    args = ap.parse_args()
    from ecm_tf.classifier.predictor import load_classifier

    runs = {}
    for name in sorted(os.listdir(args.run_dir)):
        m_path, c_path = (os.path.join(args.run_dir, name, f) for f in ("metrics.json", "config.json"))
        if name == ENSEMBLE or not (os.path.isfile(m_path) and os.path.isfile(c_path)):
            continue
        cfg = io_utils.read_json(c_path)
        if cfg.get("classifier") in ("rnn", "lstm", "bilstm"):
            runs[name] = (cfg, io_utils.read_json(m_path))
    if not runs:
        raise InputError(f"--run_dir={args.run_dir}: no trained network folders")
    first = next(iter(runs.values()))[0]
    for name, (cfg, _) in runs.items():
        same = all(cfg.get(k) == first.get(k) for k in ("input", "seed", "clf_dev_fraction", "clf_test_fraction"))
        if not same:
            raise InputError(f"{args.run_dir}/{name}/config.json: another --input/seed/split than the other runs")
    rows = data_lib.read_labelled_weibos(first["input"])
    groups = [w for _, _, w in rows]
    tr, dv, te = data_lib.split_by_group(groups, first["clf_dev_fraction"], first["clf_test_fraction"], first["seed"])
    texts = {"dev": [rows[i][0] for i in dv], "test": [rows[i][0] for i in te]}
    gold = {"dev": np.asarray([rows[i][1] for i in dv]), "test": np.asarray([rows[i][1] for i in te])}
    # dev halves by weibo, seeded
    dev_groups = sorted({groups[i] for i in dv})
    perm = np.random.RandomState(first["seed"] + 1).permutation(len(dev_groups))
    first_half = {dev_groups[j] for j in perm[: len(dev_groups) // 2]}
    in_a = np.asarray([groups[i] in first_half for i in dv])
    halves = (np.flatnonzero(in_a), np.flatnonzero(~in_a))

    probs = {}
    for name in runs:
        clf = load_classifier(os.path.join(args.run_dir, name))
        probs[name] = {s: clf.probabilities(texts[s]) for s in ("dev", "test")}
        got = metrics_lib.evaluate(gold["dev"], np.argmax(probs[name]["dev"], -1))["macro_f1"]
        want = runs[name][1]["dev"]["macro_f1"]
        if abs(got - want) > 0.002:
            raise InputError(f"{args.run_dir}/{name}: dev macro-F1 {got} recomputed, metrics.json says {want} "
                             "(another split or data?)")
    silver = sorted((n for n in runs if n.split("_", 1)[1] != "gold"), key=lambda n: -runs[n][1]["dev"]["macro_f1"])
    sets = [(n,) for n in runs]
    if len(silver) >= 2:
        sets.append(tuple(silver[:2]))
    if len(silver) >= 3:
        sets.append(tuple(silver))
    for k in (3,):  # the three best silver networks by dev, when there are more
        if len(silver) > k:
            sets.append(tuple(silver[:k]))
    sets = list(dict.fromkeys(sets))

    candidates = []
    for members, calibrated in itertools.product(sets, (False, True)):
        scores = {s: np.log(np.maximum(np.mean([probs[n][s] for n in members], axis=0), 1e-12)) for s in ("dev", "test")}
        if calibrated:
            select = crossfit(gold["dev"], scores["dev"], halves)
            bias = tune_bias(gold["dev"], scores["dev"])
        else:
            bias = np.zeros(emotions.NUM_EMOTIONS)
            select = None
        dev = metrics_lib.evaluate(gold["dev"], np.argmax(scores["dev"] + bias, -1))
        test = metrics_lib.evaluate(gold["test"], np.argmax(scores["test"] + bias, -1))
        candidates.append({"members": list(members), "calibrated": calibrated,
                           "class_bias": [round(float(b), 2) for b in bias],
                           "dev_macro_f1": dev["macro_f1"], "dev_select_macro_f1": dev["macro_f1"] if select is None else select,
                           "dev": dev, "test": test})
    best = max(candidates, key=lambda c: c["dev_select_macro_f1"])
    single = max((c for c in candidates if len(c["members"]) == 1 and not c["calibrated"]),
                 key=lambda c: c["dev_macro_f1"])
    out = {"split": {"by": "weibo", "dev": len(dv), "test": len(te), "seed": first["seed"]},
           "candidates": [{k: v for k, v in c.items() if k not in ("dev", "test")}
                          | {"chosen": c is best, "dev_accuracy": c["dev"]["accuracy"], "test_accuracy": c["test"]["accuracy"],
                             "test_macro_f1": c["test"]["macro_f1"], "test_f1": c["test"]["f1"]} for c in candidates],
           "best_single": single["members"][0]}
    if best is single:
        out["judge"] = single["members"][0]
    else:
        write_ensemble(args.run_dir, best, runs, first)
        out["judge"] = ENSEMBLE
    print("| members | calibrated | dev macro-F1 | dev macro-F1 (cross-fitted) | test acc. | test macro-F1 |")
    print("|---|---|---|---|---|---|")
    for c in candidates:
        mark = "**" if c is best else ""
        print(f"| {mark}{' + '.join(c['members'])}{mark} | {'bias ' + str(c['class_bias'][1:]) if c['calibrated'] else 'no'} "
              f"| {c['dev_macro_f1']:.3f} | {c['dev_select_macro_f1']:.3f} | {c['test']['accuracy']:.3f} "
              f"| {c['test']['macro_f1']:.3f} |")
    print(f"judge: {out['judge']}")
    if args.output:
        io_utils.write_json(args.output, out)


def write_ensemble(run_dir, best, runs, first):
    """run_dir/judge_ensemble: config.json, members/<run> copies, metrics.json (built in a temp folder,
    then renamed into place)."""
    path = os.path.join(run_dir, ENSEMBLE)
    with io_utils.folder_lock(path, "--run_dir"), io_utils.atomic_folder(path, "--run_dir") as tmp:
        for name in best["members"]:
            src = os.path.join(run_dir, name)
            shutil.copytree(src, os.path.join(tmp, "members", name),
                            ignore=shutil.ignore_patterns("metrics.json", ".*"))
        io_utils.write_json(os.path.join(tmp, "config.json"), {
            "classifier": "ensemble", "members": best["members"], "class_bias": best["class_bias"],
            "input": first["input"], "seed": first["seed"], "clf_dev_fraction": first["clf_dev_fraction"],
            "clf_test_fraction": first["clf_test_fraction"]})
        member = runs[best["members"][0]][1]
        io_utils.write_json(os.path.join(tmp, "metrics.json"), {
            "classifier": "ensemble", "members": best["members"], "class_bias": best["class_bias"],
            "split": member["split"], "dev": best["dev"], "test": best["test"],
            "dev_select_macro_f1": best["dev_select_macro_f1"],
            "selected_on": "dev macro-F1, a tuned bias cross-fitted over two halves of the dev weibos"})


if __name__ == "__main__":
    main()
