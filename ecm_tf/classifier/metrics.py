"""Accuracy, per-class and macro F1, confusion matrix, majority baseline for six-way emotion labels."""

import collections

import numpy as np

from ecm_tf import emotions


def confusion(gold, pred, num_classes=emotions.NUM_EMOTIONS):
    """[C, C] counts, rows gold, columns predicted."""
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return m


def evaluate(gold, pred):
    """{'n', 'accuracy', 'macro_f1', 'f1': {name: f1}, 'confusion': rows gold / cols predicted}.

    F1 of a class is 0 when it has neither gold nor predicted examples; macro-F1 averages all six.
    """
    m = confusion(gold, pred)
    tp = np.diag(m).astype(np.float64)
    pred_n, gold_n = m.sum(axis=0), m.sum(axis=1)
    denom = pred_n + gold_n
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    n = int(m.sum())
    return {
        "n": n,
        "accuracy": round(float(tp.sum() / max(n, 1)), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "f1": {emotions.NAMES[i]: round(float(v), 4) for i, v in enumerate(f1)},
        "confusion": m.tolist(),
    }


def majority_baseline(train_labels, gold):
    """Always predicts the most frequent class of the training split."""
    label = collections.Counter(train_labels).most_common(1)[0][0]
    out = evaluate(gold, [label] * len(gold))
    out["label"] = emotions.NAMES[label]
    return out
