"""`--mode=eval_score`: scores filled annotation sheets (ECM Tables 5-7) with Fleiss' kappa.

    python -m ecm_tf.main --mode=eval_score --input=runs/sheet.key.json \
        --sheets=ann1.csv,ann2.csv,ann3.csv,ann1.preference.csv,ann2.preference.csv

--input is the key written by --mode=eval_sheet; --sheets are the annotators' filled copies (one
per annotator; content and preference sheets are told apart by their header). Printed:
  - per system, the share of judgments in each Content-Emotion class (2-1, 2-0, 1-1, 1-0, 0-1,
    0-0; ECM Table 6 style) and the mean Content and Emotion scores per emotion (Table 5);
  - preference shares (Table 7): how often each system's slot was chosen as best, and ties;
  - Fleiss' kappa of Content (3 classes) and Emotion (2 classes) over all annotators.
"""

import collections
import csv
import json
import os

from ecm_tf import emotions
from ecm_tf.errors import InputError
from ecm_tf.evaluation import sheets as sheets_lib

CLASSES = ("2-1", "2-0", "1-1", "1-0", "0-1", "0-0")


def fleiss_kappa(counts):
    """Fleiss' kappa of a subjects x categories table of rating counts (same raters per subject).

    Args:
      counts: list of lists, counts[i][j] = raters who put subject i in category j.
    """
    n = sum(counts[0])
    if n < 2 or any(sum(row) != n for row in counts):
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every subject")
    subjects = len(counts)
    p_i = [(sum(c * c for c in row) - n) / (n * (n - 1)) for row in counts]
    p_bar = sum(p_i) / subjects
    p_j = [sum(row[j] for row in counts) / (subjects * n) for j in range(len(counts[0]))]
    p_e = sum(p * p for p in p_j)
    if p_e == 1.0:
        return 1.0
    return (p_bar - p_e) / (1 - p_e)


def _read_csv(path):
    if not os.path.exists(path):
        raise InputError(f"--sheets: {path}: no such file")
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        rows = []
        header = next(reader, None)
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((reader.line_num, row))
    if header is None:
        raise InputError(f"{path}:1: empty sheet")
    return header, rows


def _score_cell(value, allowed, path, line, column):
    text = value.strip()
    if text not in allowed:
        raise InputError(f"{path}:{line}: {column} must be one of {'/'.join(allowed)}, got {value!r}")
    return int(text)


def read_content_sheet(path, header, rows, key):
    """{(item, slot): (content, emotion_match)} of one annotator."""
    col = {name: header.index(name) for name in sheets_lib.CONTENT_COLUMNS}
    out = {}
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(f"{path}:{line}: {len(row)} cells, expected {len(header)}")
        item, slot = row[col["item"]], row[col["slot"]]
        if slot not in key["items"].get(item, {}):
            raise InputError(f"{path}:{line}: item {item!r} slot {slot!r} is not in the key")
        content = _score_cell(row[col["content"]], ("0", "1", "2"), path, line, "content")
        match = _score_cell(row[col["emotion_match"]], ("0", "1"), path, line, "emotion_match")
        out[(item, slot)] = (content, match)
    return out


def read_preference_sheet(path, header, rows, key):
    """{item: chosen slot letter or 'tie'} of one annotator."""
    item_col, pref_col = header.index("item"), header.index("preferred")
    out = {}
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(f"{path}:{line}: {len(row)} cells, expected {len(header)}")
        item, choice = row[item_col], row[pref_col].strip()
        slots = key["items"].get(item)
        if slots is None:
            raise InputError(f"{path}:{line}: item {item!r} is not in the key")
        if choice.lower() == "tie":
            choice = "tie"
        elif choice.upper() in slots:
            choice = choice.upper()
        else:
            raise InputError(f"{path}:{line}: preferred must be one of {'/'.join(sorted(slots))}/tie, got {choice!r}")
        out[item] = choice
    return out


def load_key(path):
    if not path or not os.path.exists(path):
        raise InputError(f"--input={path}: the key file written by --mode=eval_sheet (*.key.json) is missing")
    try:
        with open(path, encoding="utf-8") as f:
            key = json.load(f)
        key["items"], key["systems"]
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: not an eval_sheet key ({e.__class__.__name__})") from None
    return key


def score(key, content_sheets, preference_sheets):
    """Table 5-7 figures from parsed sheets (lists of per-annotator dicts)."""
    systems = key["systems"]
    emotion_of = {item: item.split("-", 1)[1] for item in key["items"]}
    classes = {s: collections.Counter() for s in systems}
    sums = {s: collections.defaultdict(lambda: [0, 0, 0]) for s in systems}  # emotion -> [content, match, n]
    for sheet in content_sheets:
        for (item, slot), (content, match) in sheet.items():
            system = key["items"][item][slot]
            classes[system][f"{content}-{match}"] += 1
            for name in (emotion_of[item], "Overall"):
                acc = sums[system][name]
                acc[0] += content
                acc[1] += match
                acc[2] += 1
    result = {"systems": {}, "kappa": {}}
    for s in systems:
        total = sum(classes[s].values())
        result["systems"][s] = {
            "classes": {c: classes[s][c] / total if total else 0.0 for c in CLASSES},
            "means": {e: {"content": v[0] / v[2], "emotion": v[1] / v[2]} for e, v in sums[s].items()},
        }
    if len(content_sheets) >= 2:
        subjects = sorted(set.intersection(*(set(sh) for sh in content_sheets)))
        content = [[sum(sh[k][0] == c for sh in content_sheets) for c in (0, 1, 2)] for k in subjects]
        match = [[sum(sh[k][1] == c for sh in content_sheets) for c in (0, 1)] for k in subjects]
        result["kappa"] = {"content": fleiss_kappa(content), "emotion": fleiss_kappa(match)}
    votes = collections.Counter()
    total = 0
    for sheet in preference_sheets:
        for item, choice in sheet.items():
            votes[choice if choice == "tie" else key["items"][item][choice]] += 1
            total += 1
    result["preference"] = {name: votes[name] / total for name in list(systems) + ["tie"]} if total else {}
    return result


def format_report(result):
    lines = ["Content-Emotion classes (share of judgments)", "| system | " + " | ".join(CLASSES) + " |",
             "|---" * (len(CLASSES) + 1) + "|"]
    for s, r in result["systems"].items():
        lines.append(f"| {s} | " + " | ".join(f"{100 * r['classes'][c]:.1f}%" for c in CLASSES) + " |")
    names = [emotions.NAMES[e] for e in emotions.GENERATED] + ["Overall"]
    lines += ["", "Mean Content / Emotion score per emotion", "| system | " + " | ".join(names) + " |",
              "|---" * (len(names) + 1) + "|"]
    for s, r in result["systems"].items():
        cells = [f"{r['means'][n]['content']:.3f} / {r['means'][n]['emotion']:.3f}" if n in r["means"] else "-"
                 for n in names]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if result["preference"]:
        lines += ["", "Preference (share of choices): "
                  + ", ".join(f"{k} {100 * v:.1f}%" for k, v in result["preference"].items())]
    if result["kappa"]:
        lines += ["", f"Fleiss' kappa: content {result['kappa']['content']:.3f}, "
                  f"emotion {result['kappa']['emotion']:.3f}"]
    return "\n".join(lines)


def run(cfg):
    key = load_key(cfg.input)
    if not cfg.sheets:
        raise InputError("--sheets: give the filled annotation sheets (CSV), one per annotator")
    content_sheets, preference_sheets = [], []
    for path in cfg.sheets:
        header, rows = _read_csv(path)
        if header == sheets_lib.CONTENT_COLUMNS:
            content_sheets.append(read_content_sheet(path, header, rows, key))
        elif header[:3] == ["item", "post", "emotion"] and header[-1:] == sheets_lib.PREFERENCE_TAIL:
            preference_sheets.append(read_preference_sheet(path, header, rows, key))
        else:
            raise InputError(f"{path}:1: not an eval_sheet content or preference sheet (header {header[:4]}...)")
    print(format_report(score(key, content_sheets, preference_sheets)))
