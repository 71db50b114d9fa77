"""`--mode=cecg_score`: scores filled CECG annotation sheets (written by --mode=cecg_sheet).

    python -m ecm_tf.main --mode=cecg_score --sheets=ann1.csv,ann2.csv

Per sheet and emotion: (n1 + 2 n2) / N over the `label` column (0, 1 or 2; safe responses count
0 whatever their label), the NTCIR-14 STC-3 CECG score, and their sum over the five emotions
(0..10, the task's overall figure); with several sheets also the mean per emotion and the
`vote` row: each response labelled by the CERG paper's hard voting over the sheets (majority,
else median; cecg_eval.vote), then scored. A second table gives, per emotion, the counts of
labels 0/1/2 and of each safe-response type (CERG Tables 2-6) of the vote (of the sheet, with one).
A blank or other label is an error naming the file and line. Sheets of different responses
(different systems) get their rows, the mean and one counts table each, and no vote.
"""

import sys

from ecm_tf import emotions
from ecm_tf.evaluation import cecg_eval
from ecm_tf.errors import InputError


def run(cfg):
    if not cfg.sheets:
        raise InputError("--sheets: give the filled CECG sheets (CSV from --mode=cecg_sheet), comma separated")
    names = [emotions.NAMES[e] for e in emotions.GENERATED]
    sheets = {path: cecg_eval.read_sheet(path) for path in cfg.sheets}
    scores = {path: cecg_eval.score_rows(rows) for path, rows in sheets.items()}
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
    aligned = len(sheets) > 1 and cecg_eval.same_responses(list(sheets.values()))
    if len(sheets) > 1 and not aligned:
        sys.stderr.write("--sheets: the sheets hold different responses (different systems?), so there is "
                         "no vote: hard voting needs one sheet per annotator of the same responses\n")
    if aligned:
        voted = cecg_eval.vote_labels(list(sheets.values()))
        v = cecg_eval.score_rows(voted)
        cells = [v.get(n) for n in names]
        print("| vote | " + " | ".join("-" if c is None else f"{c:.3f}" for c in cells)
              + f" | {sum(c for c in cells if c is not None):.3f} |")
        tables = [(f"hard vote of {len(sheets)} sheets", voted)]
    else:
        tables = [(path if len(sheets) > 1 else "one sheet", rows) for path, rows in sheets.items()]
    for title, rows in tables:
        counts = cecg_eval.label_counts(rows)
        print()
        print(f"Label and safe-response counts ({title})")
        print("| emotion | N | label 0 | label 1 | label 2 | score | emoji only | what's going on | me too |")
        print("|---|---|---|---|---|---|---|---|---|")
        for n in names:
            if n in counts:
                c = counts[n]
                print(f"| {n} | {c['n']} | {c['0']} | {c['1']} | {c['2']} | {c['score']:.3f} | {c['emoji_only']} | "
                      f"{c['whats_going_on']} | {c['me_too']} |")
