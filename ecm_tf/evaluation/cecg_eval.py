"""NTCIR-14 STC-3 CECG-style evaluation of CERG / P&E2R (as in the CERG paper's tables).

Protocol: N posts x the five generated emotions (Like, Sad, Disgust, Angry, Happy). Annotators
label each response 0 (not fluent / not relevant / safe), 1 (fluent and relevant, emotion wrong)
or 2 (fluent, relevant and of the asked emotion). Per emotion:

    score = (n1 + 2 * n2) / N          e.g. (69 + 2 * 23) / 200 = 0.575

Safe, commonplace responses score 0 and are detected automatically (`safe_kind`): emoji only
(nothing but emoticons/punctuation once [xx]-style Weibo emoticons are removed), "what's going
on" forms (怎么了, 怎么回事, 咋了, 怎么啦) and "me too" forms (我也是, 我也, 俺也) when the response
is little more than the phrase (at most 2 other characters, particles and punctuation aside).

With several annotators (one filled sheet each), the CERG paper's hard voting gives each response
one label: the label most annotators gave when more than half gave it, else the median of their
labels (the lower middle one for an even count, so two annotators saying 1 and 2 give 1); the
vote is then scored as above (`vote_labels`, `label_counts`: CERG Tables 2-6 report per emotion
the counts of labels 0/1/2 and of each safe-response type).

Automatic proxy label (no human): 0 for a safe or empty response, else 1 + [classifier(response)
== asked emotion], with the emotion classifier of ecm_tf.classifier.predictor. It measures the
emotion point and the safe-response share only; fluency and relevance need the human sheet.
"""

import collections
import csv
import re
import statistics

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError

SHEET_COLUMNS = ["post", "emotion", "response", "safe", "proxy_emotion", "proxy_label", "label"]
_EMOTICON_RE = re.compile(r"\[[^\[\]]{1,8}\]")
_PUNCT_RE = re.compile(r"[\W_]+")
_FILLER_RE = re.compile(r"[啊呀吧呢了嘛哈哦噢啦吗呗]+")
_CJK_OR_ALNUM_RE = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
WHATS_GOING_ON = ("怎么回事", "怎么了", "怎么啦", "咋了")
ME_TOO = ("我也是", "我也", "俺也")


def cecg_score(labels):
    """(n1 + 2 n2) / N for a list of 0/1/2 labels (0.0 for an empty list)."""
    counts = collections.Counter(int(x) for x in labels)
    if set(counts) - {0, 1, 2}:
        raise ValueError(f"CECG labels are 0, 1 or 2, got {sorted(counts)}")
    n = sum(counts.values())
    return (counts[1] + 2 * counts[2]) / n if n else 0.0


def safe_kind(response):
    """'emoji_only', 'whats_going_on', 'me_too' or None for a response text."""
    text = _EMOTICON_RE.sub("", response)
    if not _CJK_OR_ALNUM_RE.search(text):
        return "emoji_only"
    core = _PUNCT_RE.sub("", text)
    for kind, phrases in (("whats_going_on", WHATS_GOING_ON), ("me_too", ME_TOO)):
        for phrase in phrases:
            if phrase in core and len(_FILLER_RE.sub("", core.replace(phrase, "", 1))) <= 2:
                return kind
    return None


def proxy_labels(results, classifier):
    """Proxy 0/1/2 labels and the classifier's emotion ids for result dicts {emotion, response}."""
    predicted = classifier.predict([r["response"] for r in results]) if classifier else [None] * len(results)
    labels = []
    for r, pred in zip(results, predicted):
        if not r["response"].strip() or safe_kind(r["response"]):
            labels.append(0)
        else:
            asked = emotions.emotion_id(r["emotion"])
            labels.append(1 + int(pred == asked) if pred is not None else 1)
    return labels, predicted


def summarize(results, classifier=None, proxy=None):
    """Figures of decode results per emotion and "Overall": n, safe share, and with a classifier
    the proxy score and emotion accuracy. proxy: proxy_labels() output when already computed."""
    labels, predicted = proxy or proxy_labels(results, classifier)
    rows = [(emotions.emotion_id(r["emotion"]), r, label, pred) for r, label, pred in zip(results, labels, predicted)]
    groups = [(emotions.NAMES[e], [x for x in rows if x[0] == e]) for e in sorted({x[0] for x in rows})]
    if rows:
        groups.append(("Overall", rows))
    out = {}
    for name, group in groups:
        safe = sum(1 for _, r, _, _ in group if safe_kind(r["response"]))
        entry = {"n": len(group), "safe_share": round(safe / len(group), 4)}
        if classifier is not None:
            entry["proxy_score"] = round(cecg_score([label for _, _, label, _ in group]), 4)
            entry["emotion_accuracy"] = round(sum(1 for e, _, _, p in group if p == e) / len(group), 4)
        out[name] = entry
    return out


def write_sheet(results, path, classifier=None, proxy=None):
    """Annotation sheet (CSV): one row per response; safe responses are pre-labelled 0.
    proxy: proxy_labels() output when already computed."""
    labels, predicted = proxy or proxy_labels(results, classifier)
    with io_utils.atomic_open(path) as f:
        writer = csv.DictWriter(f, SHEET_COLUMNS)
        writer.writeheader()
        for r, label, pred in zip(results, labels, predicted):
            kind = safe_kind(r["response"])
            writer.writerow({"post": r["post"], "emotion": r["emotion"], "response": r["response"],
                             "safe": kind or "", "proxy_emotion": "" if pred is None else emotions.NAMES[pred],
                             "proxy_label": label if classifier else "", "label": 0 if kind else ""})


SAFE_KINDS = ("emoji_only", "whats_going_on", "me_too")


def read_sheet(path):
    """[(where, post, emotion id, response, label)] of a filled sheet, in file order; safe
    responses are labelled 0 whatever the annotator wrote."""
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), 2):
            where = f"{path}:{line}"
            label = (row.get("label") or "").strip()
            if label not in ("0", "1", "2"):
                raise InputError(f"{where}: label must be 0, 1 or 2, got {label!r}")
            eid = emotions.emotion_id(row.get("emotion", ""), where)
            response = row.get("response", "")
            rows.append((where, row.get("post", ""), eid, response, 0 if safe_kind(response) else int(label)))
    if not rows:
        raise InputError(f"{path}: no labelled rows")
    return rows


def score_rows(rows):
    """{emotion name: (n1 + 2 n2) / N} of read_sheet() rows (or vote rows)."""
    by_emotion = collections.defaultdict(list)
    for _, _, eid, _, label in rows:
        by_emotion[eid].append(label)
    return {emotions.NAMES[e]: round(cecg_score(v), 4) for e, v in sorted(by_emotion.items())}


def score_sheet(path):
    """{emotion name: score} of a filled sheet; safe responses count 0 whatever their label."""
    return score_rows(read_sheet(path))


def vote(labels):
    """One label from several annotators': the strict majority, else the (lower) median."""
    counts = collections.Counter(labels)
    label, n = counts.most_common(1)[0]
    if 2 * n > len(labels):
        return label
    return statistics.median_low(labels)


def same_responses(sheets):
    """True when read_sheet() results hold the same (post, emotion, response) rows in the same order."""
    first = sheets[0]
    return all(len(o) == len(first) and all(a[1:4] == b[1:4] for a, b in zip(first, o)) for o in sheets[1:])


def vote_labels(sheets):
    """Hard voting over several read_sheet() results of the same responses.

    The sheets must hold the same (post, emotion, response) rows in the same order (copies of one
    --mode=cecg_sheet output); returns rows like read_sheet()'s with the voted label.
    """
    first = sheets[0]
    for other in sheets[1:]:
        if len(other) != len(first):
            raise InputError(f"{other[0][0].rsplit(':', 1)[0]}: {len(other)} rows, but "
                             f"{first[0][0].rsplit(':', 1)[0]} has {len(first)} (sheets of the same responses?)")
        for a, b in zip(first, other):
            if a[1:4] != b[1:4]:
                raise InputError(f"{b[0]}: post/emotion/response differ from {a[0]} (sheets of the same responses?)")
    return [(rows[0][0], *rows[0][1:4], vote([r[4] for r in rows])) for rows in zip(*sheets)]


def label_counts(rows):
    """{emotion name: {"n", "0", "1", "2", "score", emoji_only, whats_going_on, me_too}} per emotion
    (CERG Tables 2-6): counts of each label and of each safe-response type."""
    out = {}
    for eid in sorted({r[2] for r in rows}):
        group = [r for r in rows if r[2] == eid]
        labels = collections.Counter(r[4] for r in group)
        kinds = collections.Counter(safe_kind(r[3]) for r in group)
        entry = {"n": len(group), **{str(k): labels[k] for k in (0, 1, 2)},
                 "score": round(cecg_score([r[4] for r in group]), 4)}
        entry.update({k: kinds[k] for k in SAFE_KINDS})
        out[emotions.NAMES[eid]] = entry
    return out


def evaluate(predictor, posts, classifier=None, use_retrieval=True, sheet_path=None):
    """Generates N posts x 5 emotions with a CergPredictor and returns summarize(); optionally
    writes the annotation sheet."""
    rows = [(p, e) for p in posts for e in emotions.GENERATED]
    results = predictor.respond_detailed([p for p, _ in rows], [e for _, e in rows], use_retrieval)
    proxy = proxy_labels(results, classifier)
    if sheet_path:
        write_sheet(results, sheet_path, classifier, proxy)
    return summarize(results, classifier, proxy)
