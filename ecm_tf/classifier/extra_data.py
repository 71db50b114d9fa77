"""Extra classifier data beyond the NLPCC split, for the judge: silver sentences, CPED utterances.

- `--clf_extra_train=FILE[,FILE]`: sentences added to the **train split only**, after the NLPCC
  8:1:1 split is drawn, so dev and test stay the same NLPCC sentences for every choice. Any
  sentence whose normalised text (cleaned, whitespace removed) equals a dev or test sentence is
  dropped, so the silver Weibo sentences that are NLPCC sentences cannot leak into the scores.
  Formats, by extension: `.tsv` = `label<TAB>text` with a header (the silver Weibo file; label
  0..5 or a name), `.csv` = CPED (every utterance with its mapped human label), `.xml` = NLPCC.
- `--clf_agreement_input=FILE[,FILE]`: CPED CSV(s) labelled by people; the trained classifier's
  agreement with their (mapped) labels is written to metrics.json as `agreement`.
"""

import os

import numpy as np

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import cped
from ecm_tf.data import nlpcc_xml
from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError, at


def _paths(value):
    return [p.strip() for p in str(value or "").split(",") if p.strip()]


def key(text):
    """Duplicate-detection key: cleaned text without any whitespace (segmentation-independent)."""
    return "".join(text_lib.clean(text).split())


def read_label_tsv(path):
    """[(text, emotion_id)] of a `label<TAB>text` file with a header line; segmented text re-joined."""
    lines = io_utils.read_lines(path)
    if not lines or lines[0].split("\t")[:2] != ["label", "text"]:
        raise InputError(f"{at(path, line=1)}: expected the header label<TAB>text")
    out = []
    for i, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise InputError(f"{at(path, line=i)}: expected label<TAB>text, got {len(cols)} column(s)")
        text = text_lib.join_chars(cols[1])  # re-segmented by jieba as the NLPCC sentences are
        if not text:
            raise InputError(f"{at(path, line=i)}: empty text")
        out.append((text, emotions.emotion_id(cols[0], at(path, line=i))))
    if not out:
        raise InputError(f"{path}: no sentences")
    return out


def read_sentences(path, mapping=None):
    """[(text, emotion_id)] of one extra-data file (format by extension, see the module doc)."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".tsv":
        return read_label_tsv(path)
    if ext == ".csv":
        return cped.read_cped_utterances(path, mapping)
    if ext == ".xml":
        return nlpcc_xml.read_nlpcc_xml(path)
    raise InputError(f"--clf_extra_train={path}: expected a .tsv (label<TAB>text), .csv (CPED) or .xml (NLPCC) file")


def extra_train(paths, held_out_texts, mapping=None):
    """(sentences, report): the extra files' sentences minus those in held_out_texts (dev + test)."""
    held = {key(t) for t in held_out_texts}
    kept, report = [], []
    for path in _paths(paths):
        rows = read_sentences(path, mapping)
        fresh = [(t, e) for t, e in rows if key(t) not in held]
        counts = np.bincount([e for _, e in fresh], minlength=emotions.NUM_EMOTIONS).tolist()
        report.append({"path": path, "read": len(rows), "dropped_as_dev_or_test": len(rows) - len(fresh),
                       "kept": len(fresh), "labels": dict(zip(emotions.NAMES, counts))})
        kept.extend(fresh)
    return kept, report


def cohen_kappa(gold, pred, num_classes=emotions.NUM_EMOTIONS):
    m = np.zeros((num_classes, num_classes), dtype=np.float64)
    np.add.at(m, (np.asarray(gold), np.asarray(pred)), 1)
    n = m.sum()
    po = np.trace(m) / n
    pe = float((m.sum(0) * m.sum(1)).sum()) / (n * n)
    return round(float((po - pe) / (1 - pe)) if pe < 1 else 0.0, 4)


def agreement(predict_tokens, paths, tokenize, mapping=None):
    """Agreement of a classifier with CPED's human labels (mapped to ECM's six).

    predict_tokens: list of token lists -> list of emotion ids. Returns metrics_lib.evaluate's dict
    plus Cohen's kappa, over all utterances and over the emotional ones (human label not Other)."""
    from ecm_tf.classifier import metrics as metrics_lib

    rows = []
    for path in _paths(paths):
        rows.extend(cped.read_cped_utterances(path, mapping))
    if not rows:
        return None
    gold = [e for _, e in rows]
    pred = predict_tokens([tokenize(t) for t, _ in rows])
    out = metrics_lib.evaluate(gold, pred)
    out["kappa"] = cohen_kappa(gold, pred)
    emo = [i for i, g in enumerate(gold) if g != emotions.OTHER]
    out["emotional_only_accuracy"] = round(sum(pred[i] == gold[i] for i in emo) / max(1, len(emo)), 4)
    out["paths"] = _paths(paths)
    return out
