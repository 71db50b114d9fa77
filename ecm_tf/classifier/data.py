"""Classifier data: NLPCC 2013/2014 sentences, tokenisation, the seeded 8:1:1 split, padded batches."""

import numpy as np

from ecm_tf import emotions
from ecm_tf.data import nlpcc_xml
from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError


def tokenize(text, max_len):
    """Raw or space-segmented sentence -> at most `max_len` words (jieba, digits -> 0)."""
    return [text_lib.normalize_digits(t) for t in text_lib.segment(text)][:max_len]


def read_labelled(paths):
    """Every usable (raw_text, emotion_id) of the comma-separated NLPCC XML files, in file order."""
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    if not paths:
        raise InputError("--input: give the NLPCC emotion XML file(s) to train the classifier on")
    out = []
    for path in paths:
        out.extend(nlpcc_xml.read_nlpcc_xml(path))
    if out and len({eid for _, eid in out}) < 2:
        only = emotions.NAMES[out[0][1]]
        raise InputError(f"--input={','.join(paths)}: every sentence is {only} (no emotion-1-type labels of "
                         f"another class): a classifier needs labelled sentences of several emotions")
    return out


def split(n, dev_fraction, test_fraction, seed):
    """Deterministic index split: (train, dev, test) arrays from one seeded permutation."""
    if not (0 < dev_fraction < 1 and 0 < test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise InputError(f"--clf_dev_fraction={dev_fraction} --clf_test_fraction={test_fraction}: "
                         "each must be in (0, 1) and their sum below 1")
    order = np.random.RandomState(seed).permutation(n)
    n_test, n_dev = int(round(n * test_fraction)), int(round(n * dev_fraction))
    if n - n_test - n_dev < 1 or n_test < 1 or n_dev < 1:
        raise InputError(f"--input: {n} sentences are too few for a train/dev/test split")
    return np.sort(order[n_test + n_dev:]), np.sort(order[n_test:n_test + n_dev]), np.sort(order[:n_test])


def pad(id_lists):
    """list[list[int]] -> [B, T] int32 right-padded with 0 (T >= 1)."""
    width = max(1, max((len(x) for x in id_lists), default=1))
    out = np.zeros((len(id_lists), width), dtype=np.int32)
    for i, ids in enumerate(id_lists):
        out[i, : len(ids)] = ids
    return out


def length_batches(lengths, batch_size, rng=None, pool=50):
    """Index batches of similar length: shuffled pools (when rng is given) of pool * batch_size
    examples, sorted by length inside a pool and cut into batches; the batch order is shuffled too."""
    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    batches = []
    for start in range(0, n, pool * batch_size):
        chunk = order[start:start + pool * batch_size]
        chunk = chunk[np.argsort([lengths[i] for i in chunk], kind="stable")]
        batches.extend(chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size))
    if rng is not None:
        rng.shuffle(batches)
    return batches


def class_weights(labels, num_classes, mode):
    """'balanced': n / (C * n_c) per class (absent classes 0); 'none': all ones."""
    if mode == "none":
        return np.ones(num_classes, dtype=np.float32)
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    w = np.where(counts > 0, len(labels) / (num_classes * np.maximum(counts, 1)), 0.0)
    return w.astype(np.float32)
