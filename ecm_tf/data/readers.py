"""Readers for every conversation format ecm_tf accepts; each returns a list of `Pair`.

Formats (`--input_format`):
- ecm: the original ECM release, `[[[post, tag_nn, tag_rule], [[resp, tag_nn, tag_rule], ...]], ...]`;
  one post with many responses, `tag_nn` is the label used (the post's becomes `post_emotion`).
- pairs: NLPCC 2017 ECG / NTCIR-14 CECG, `[[[post, label], [resp, label]], ...]`, also with a
  second label per utterance `[[post, l1, l2], [resp, l1, l2]]` (the first label is used).
- tsv: `post<TAB>response[<TAB>emotion]`, emotion as a name or an id.
- lccc: LCCC's lines, `post<TAB>response` with characters split by spaces (re-joined so that
  jieba segments words again).
- nlpcc_xml: NLPCC 2013/2014 emotion-classification XML (classifier data): one Pair per sentence,
  empty post, the sentence as the response with its label.
- lines: one sentence per line (classifier input): empty post, the line as the response.
- cped: CPED's CSV (human-labelled TV-series dialogues): adjacent utterances of one dialogue;
  see ecm_tf/data/cped.py (`--cped_speaker_change`, `--cped_emotion_map`).

Bad input raises InputError naming the file and the line or record.
"""

import json
import os

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import cped
from ecm_tf.data import nlpcc_xml
from ecm_tf.data import text as text_lib
from ecm_tf.data.pair import Pair
from ecm_tf.errors import InputError, at

FORMATS = ("auto", "ecm", "pairs", "tsv", "lccc", "nlpcc_xml", "lines", "cped")
# Formats whose pairs have no post (classifier data): prep refuses them.
SENTENCE_FORMATS = ("nlpcc_xml", "lines")


def _utterance(item, where, what):
    """Checks `[text, label, ...]` and returns (text, emotion_id)."""
    if not (isinstance(item, list) and len(item) >= 2 and isinstance(item[0], str)):
        raise InputError(f"{where}: {what} must be [text, label, ...], got {json.dumps(item, ensure_ascii=False)[:60]}")
    label = item[1]
    if not isinstance(label, int) or isinstance(label, bool):
        raise InputError(f"{where}: {what} label must be an integer 0..5, got {label!r}")
    eid = emotions.emotion_id(label, f"{where}: {what}")
    text = item[0].strip()
    if not text:
        raise InputError(f"{where}: empty {what}")
    return text, eid


def _top_list(data, path, expected):
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of {expected}, got {type(data).__name__}")
    if not data:
        raise InputError(f"{path}: no records")
    return data


def read_ecm_json(path):
    """Original ECM release format; records are numbered from 1."""
    data = _top_list(io_utils.read_json(path), path, "[post, [responses]] records")
    pairs = []
    for k, rec in enumerate(data, 1):
        where = at(path, record=k)
        if not (isinstance(rec, list) and len(rec) == 2 and isinstance(rec[1], list)):
            raise InputError(f"{where}: expected [[post, tag_nn, tag_rule], [[response, tag_nn, tag_rule], ...]]")
        post, post_eid = _utterance(rec[0], where, "post")
        if not rec[1]:
            raise InputError(f"{where}: post has no responses")
        for j, item in enumerate(rec[1], 1):
            resp, resp_eid = _utterance(item, f"{where} response {j}", "response")
            pairs.append(Pair(post, resp, resp_eid, post_eid, f"{where} response {j}"))
    return pairs


def read_pairs_json(path):
    """NLPCC 2017 ECG / NTCIR-14 CECG pair format (one or two labels per utterance)."""
    data = _top_list(io_utils.read_json(path), path, "[[post, label], [response, label]] records")
    pairs = []
    for k, rec in enumerate(data, 1):
        where = at(path, record=k)
        if not (isinstance(rec, list) and len(rec) == 2):
            raise InputError(f"{where}: expected [[post, label], [response, label]]")
        post, post_eid = _utterance(rec[0], where, "post")
        resp, resp_eid = _utterance(rec[1], where, "response")
        pairs.append(Pair(post, resp, resp_eid, post_eid, where))
    return pairs


def _sniff_json(path):
    """'ecm' when the second element of the first record is a list of utterances, else 'pairs'."""
    data = io_utils.read_json(path)
    if isinstance(data, list) and data and isinstance(data[0], list) and len(data[0]) == 2:
        second = data[0][1]
        if isinstance(second, list) and second and isinstance(second[0], list):
            return "ecm"
    return "pairs"


def looks_char_split(lines, sample=200):
    """True when the text is LCCC-style: (almost) every space-separated token is one character."""
    tokens = [t for line in lines[:sample] for t in line.replace("\t", " ").split()]
    return bool(tokens) and sum(len(t) == 1 for t in tokens) / len(tokens) > 0.9


# Column names a header line of a TSV corpus may use (compared lower-cased); docs/data.md.
HEADER_WORDS = frozenset({
    "post", "posts", "response", "responses", "emotion", "emotions", "label", "labels", "query", "reply",
    "question", "answer", "context", "source", "target", "src", "tgt", "text", "utterance", "category",
    "帖子", "微博", "回复", "情感", "情绪", "标签", "类别", "问题", "回答", "上文", "下文"})


def is_header(line):
    """True for a TSV header line: every column a column name such as post, response, emotion."""
    cols = [c.replace(" ", "").lower() for c in line.split("\t")]  # LCCC-style "p o s t" too
    return len(cols) in (2, 3) and all(c in HEADER_WORDS for c in cols)


def read_tsv(path, char_split=None):
    """`post<TAB>response[<TAB>emotion]` lines; char_split (None = detect) re-joins LCCC text. A first
    line whose columns are all column names (post, response, emotion, ...: HEADER_WORDS) is a header
    and is skipped."""
    lines = io_utils.read_lines(path)
    if char_split is None:
        char_split = looks_char_split(lines)
    pairs, header = [], None
    first = next((i for i, line in enumerate(lines, 1) if line.strip()), None)
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if i == first and is_header(line):
            header = i
            continue
        where = at(path, line=i)
        cols = line.split("\t")
        if len(cols) not in (2, 3):
            raise InputError(f"{where}: expected post<TAB>response[<TAB>emotion], got {len(cols)} column(s)")
        post, resp = cols[0].strip(), cols[1].strip()
        if char_split:
            post, resp = text_lib.join_chars(post), text_lib.join_chars(resp)
        if not post:
            raise InputError(f"{where}: empty post")
        if not resp:
            raise InputError(f"{where}: empty response")
        eid = emotions.emotion_id(cols[2], where) if len(cols) == 3 else None
        pairs.append(Pair(post, resp, eid, None, where))
    if not pairs:
        raise InputError(f"{path}: no pairs" + (f" (line {header} is a header)" if header else ""))
    return pairs


def read_lines_file(path):
    """One sentence per line (blank lines skipped): Pairs with an empty post."""
    out = [Pair("", line.strip(), None, None, at(path, line=i))
           for i, line in enumerate(io_utils.read_lines(path), 1) if line.strip()]
    if not out:
        raise InputError(f"{path}: no sentences")
    return out


def read_xml(path):
    return [Pair("", text, eid, None, at(path, record=k))
            for k, (text, eid) in enumerate(nlpcc_xml.read_nlpcc_xml(path), 1)]


def detect_format(path):
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json":
        return _sniff_json(path)
    if ext == ".xml":
        return "nlpcc_xml"
    if ext == ".csv":
        return "cped"
    return "lccc" if looks_char_split(io_utils.read_lines(path)) else "tsv"


def options(cfg):
    """The reader options of a Config (--cped_speaker_change, --cped_emotion_map) for read_corpus."""
    return {"cped_speaker_change": cfg.cped_speaker_change, "cped_emotion_map": cfg.cped_emotion_map}


def read_corpus(path, input_format="auto", cped_speaker_change=False, cped_emotion_map=""):
    """Reads one corpus file in `input_format` (auto: guessed from extension and content); the cped_
    options apply to CPED files (readers.options(cfg) gives them from the flags)."""
    if input_format not in FORMATS:
        raise InputError(f"--input_format={input_format}: expected one of {', '.join(FORMATS)}")
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    fmt = detect_format(path) if input_format == "auto" else input_format
    readers = {
        "ecm": read_ecm_json,
        "pairs": read_pairs_json,
        "tsv": lambda p: read_tsv(p, char_split=False),
        "lccc": lambda p: read_tsv(p, char_split=True),
        "nlpcc_xml": read_xml,
        "lines": read_lines_file,
        "cped": lambda p: cped.read_cped_pairs(p, cped_speaker_change, cped.emotion_map(cped_emotion_map)),
    }
    return readers[fmt](path)


def read_corpora(paths, input_format="auto", **reader_options):
    """Comma-separated or listed paths, concatenated in order (reader_options: as read_corpus's)."""
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    out = []
    for p in paths:
        out.extend(read_corpus(p, input_format, **reader_options))
    return out


def write_pairs_json(path, pairs):
    """Writes pairs atomically in the NLPCC 2017 pair format, one record per line.

    `[[[post, post_label], [response, response_label]], ...]`; an unknown label is written as 0 (Other).
    """
    records = [
        json.dumps([[p.post, 0 if p.post_emotion is None else p.post_emotion],
                    [p.response, 0 if p.response_emotion is None else p.response_emotion]], ensure_ascii=False)
        for p in pairs
    ]
    with io_utils.atomic_open(path) as f:
        f.write("[\n" + ",\n".join(records) + "\n]\n")
