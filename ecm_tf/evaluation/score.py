"""`--mode=eval_score`: scores filled annotation sheets (ECM Tables 5-7) with Fleiss' kappa.

    python -m ecm_tf.main --mode=eval_score --input=runs/sheet.key.json \
        --sheets=ann1.csv,ann2.csv,ann3.csv,ann1.preference.csv,ann2.preference.csv

--input is the key written by --mode=eval_sheet; --sheets are the annotators' filled copies (one
per annotator; content and preference sheets are told apart by their header). Printed, in the
paper's order:
  - Table 5: per system the mean Content (0-2) and Emotion (0/1) scores per emotion and overall;
    then, for every pair of systems, two-tailed paired t-tests (scipy.stats.ttest_rel) of
    Content and of Emotion over the items both were judged on (each item's score = the mean over
    annotators), the p-values the paper reports;
  - Table 6: per system the share of judgments in each Content-Emotion class (2-1 = content 2,
    emotion 1; ...);
  - Table 7: for every pair of systems, compared on the same post and emotion, the share of
    preference judgments for each of the two and of ties, per emotion and overall;
  - Fleiss' kappa of Content (3 classes) and Emotion (2 classes) over all annotators.
"""

import collections
import csv
import itertools
import json
import math
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
    """{(item, pair "A-B"): chosen slot letter or 'tie'} of one annotator."""
    if header != sheets_lib.PREFERENCE_COLUMNS:
        raise InputError(f"{path}:1: preference sheet header must be {','.join(sheets_lib.PREFERENCE_COLUMNS)} "
                         f"(written by --mode=eval_sheet)")
    item_col, pair_col, pref_col = header.index("item"), header.index("pair"), header.index("preferred")
    out = {}
    for line, row in rows:
        if len(row) != len(header):
            raise InputError(f"{path}:{line}: {len(row)} cells, expected {len(header)}")
        item, pair, choice = row[item_col], row[pair_col], row[pref_col].strip()
        slots = key["items"].get(item)
        if slots is None:
            raise InputError(f"{path}:{line}: item {item!r} is not in the key")
        letters = pair.split("-")
        if len(letters) != 2 or any(letter not in slots for letter in letters):
            raise InputError(f"{path}:{line}: pair {pair!r} is not two slots of item {item!r}")
        if choice.lower() == "tie":
            choice = "tie"
        elif choice.upper() in letters:
            choice = choice.upper()
        else:
            raise InputError(f"{path}:{line}: preferred must be one of {'/'.join(letters)}/tie, got {choice!r}")
        out[(item, pair)] = choice
    return out


def paired_t_test(a, b):
    """Two-tailed paired t-test of equal means (scipy.stats.ttest_rel): (t, p); NaN when undefined
    (fewer than 2 pairs, or all differences equal)."""
    from scipy import stats

    if len(a) < 2:
        return float("nan"), float("nan")
    diffs = [x - y for x, y in zip(a, b)]
    if max(diffs) == min(diffs):
        return float("nan"), float("nan")
    t, p = stats.ttest_rel(a, b)
    return float(t), float(p)


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
    # t-tests (Table 5's p-values): per item, the mean score over the annotators who judged it.
    per_item = {s: {} for s in systems}  # system -> item -> [content sum, match sum, n]
    for sheet in content_sheets:
        for (item, slot), (content, match) in sheet.items():
            acc = per_item[key["items"][item][slot]].setdefault(item, [0, 0, 0])
            acc[0] += content
            acc[1] += match
            acc[2] += 1
    result["t_tests"] = {}
    for a, b in itertools.combinations(systems, 2):
        items = sorted(set(per_item[a]) & set(per_item[b]))
        entry = {"items": len(items)}
        for index, name in ((0, "content"), (1, "emotion")):
            xa = [per_item[a][i][index] / per_item[a][i][2] for i in items]
            xb = [per_item[b][i][index] / per_item[b][i][2] for i in items]
            entry[name] = dict(zip(("t", "p"), paired_t_test(xa, xb)))
        result["t_tests"][f"{a} vs {b}"] = entry
    # Table 7: pairwise preference, each pair of systems on the same post and emotion.
    prefs = {}
    for sheet in preference_sheets:
        for (item, pair), choice in sheet.items():
            slots = key["items"][item]
            x, y = sorted((slots[letter] for letter in pair.split("-")), key=systems.index)
            winner = "tie" if choice == "tie" else slots[choice]
            for name in (emotion_of[item], "Overall"):
                prefs.setdefault(f"{x} vs {y}", {}).setdefault(name, collections.Counter())[winner] += 1
    result["preference"] = {
        pair: {e: {k: c[k] / sum(c.values()) for k in list(pair.split(" vs ")) + ["tie"]} for e, c in by_e.items()}
        for pair, by_e in prefs.items()}
    return result


def _p(value):
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def format_report(result):
    names = [emotions.NAMES[e] for e in range(emotions.NUM_EMOTIONS)] + ["Overall"]
    used = [n for n in names if any(n in r["means"] for r in result["systems"].values())]
    lines = ["Table 5: mean Content / Emotion score per emotion", "| system | " + " | ".join(used) + " |",
             "|---" * (len(used) + 1) + "|"]
    for s, r in result["systems"].items():
        cells = [f"{r['means'][n]['content']:.3f} / {r['means'][n]['emotion']:.3f}" if n in r["means"] else "-"
                 for n in used]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if result["t_tests"]:
        lines += ["", "Two-tailed paired t-tests over items (mean of the annotators per item)",
                  "| systems | items | Content t | Content p | Emotion t | Emotion p |", "|---|---|---|---|---|---|"]
        for pair, t in result["t_tests"].items():
            lines.append(f"| {pair} | {t['items']} | {_p(t['content']['t'])} | {_p(t['content']['p'])} | "
                         f"{_p(t['emotion']['t'])} | {_p(t['emotion']['p'])} |")
    lines += ["", "Table 6: Content-Emotion classes (share of judgments; 2-1 = content 2, emotion 1)",
              "| system | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    for s, r in result["systems"].items():
        lines.append(f"| {s} | " + " | ".join(f"{100 * r['classes'][c]:.1f}%" for c in CLASSES) + " |")
    if result["preference"]:
        lines += ["", "Table 7: pairwise preference (share of judgments: first system / tie / second system)",
                  "| systems | " + " | ".join(used) + " |", "|---" * (len(used) + 1) + "|"]
        for pair, by_e in result["preference"].items():
            x, y = pair.split(" vs ")
            cells = [f"{100 * by_e[n][x]:.1f}% / {100 * by_e[n]['tie']:.1f}% / {100 * by_e[n][y]:.1f}%"
                     if n in by_e else "-" for n in used]
            lines.append(f"| {pair} | " + " | ".join(cells) + " |")
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
        elif header[:3] == ["item", "post", "emotion"] and header[-1:] == sheets_lib.PREFERENCE_TAIL:  # Table 7
            preference_sheets.append(read_preference_sheet(path, header, rows, key))
        else:
            raise InputError(f"{path}:1: not an eval_sheet content or preference sheet (header {header[:4]}...)")
    print(format_report(score(key, content_sheets, preference_sheets)))
