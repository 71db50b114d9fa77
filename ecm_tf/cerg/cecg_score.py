"""`--mode=cecg_score`: scores filled CECG annotation sheets (written by --mode=cecg_sheet).

    python -m ecm_tf.main --mode=cecg_score --sheets=ann1.csv,ann2.csv

Per sheet and emotion: (n1 + 2 n2) / N over the `label` column (0, 1 or 2; safe responses count
0 whatever their label), the NTCIR-14 STC-3 CECG score, and their sum over the five emotions
(0..10, the task's overall figure); with several sheets also the mean per emotion.
A blank or other label is an error naming the file and line.
"""

from ecm_tf import emotions
from ecm_tf.cerg import cecg_eval
from ecm_tf.errors import InputError


def run(cfg):
    if not cfg.sheets:
        raise InputError("--sheets: give the filled CECG sheets (CSV from --mode=cecg_sheet), comma separated")
    names = [emotions.NAMES[e] for e in emotions.GENERATED]
    scores = {path: cecg_eval.score_sheet(path) for path in cfg.sheets}
    print("| sheet | " + " | ".join(names) + " | sum |")
    print("|---|" + "---|" * (len(names) + 1))
    for path, s in scores.items():
        cells = [s.get(n) for n in names]
        total = sum(c for c in cells if c is not None)
        print(f"| {path} | " + " | ".join("-" if c is None else f"{c:.3f}" for c in cells) + f" | {total:.3f} |")
    if len(scores) > 1:
        means = [[s[n] for s in scores.values() if n in s] for n in names]
        means = [sum(m) / len(m) if m else None for m in means]
        print("| mean | " + " | ".join("-" if m is None else f"{m:.3f}" for m in means)
              + f" | {sum(m for m in means if m is not None):.3f} |")
