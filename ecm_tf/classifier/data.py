"""Classifier data: NLPCC 2013/2014 sentences, tokenisation, the seeded 8:1:1 split by weibo, padded batches.

The train/dev/test split draws whole weibos (the NLPCC XML's documents), never single sentences:
sentences of one weibo share topic and words, and a split by sentence put sisters of a test sentence
into training, which made the test estimate optimistic (RESULTS.md: the judge)."""

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
    return [(text, eid) for text, eid, _ in read_labelled_weibos(paths)]


def read_labelled_weibos(paths):
    """(raw_text, emotion_id, weibo) of every usable sentence of the comma-separated NLPCC XML files,
    in file order; weibo names the sentence's document (nlpcc_xml.read_nlpcc_weibos)."""
    if isinstance(paths, str):
        paths = [p.strip() for p in paths.split(",") if p.strip()]
    if not paths:
        raise InputError("--input: give the NLPCC emotion XML file(s) to train the classifier on")
    out = []
    for path in paths:
        out.extend(nlpcc_xml.read_nlpcc_weibos(path))
    if out and len({eid for _, eid, _ in out}) < 2:
        only = emotions.NAMES[out[0][1]]
        raise InputError(f"--input={','.join(paths)}: every sentence is {only} (no emotion-1-type labels of "
                         f"another class): a classifier needs labelled sentences of several emotions")
    return out


def _check_fractions(dev_fraction, test_fraction):
    if not (0 < dev_fraction < 1 and 0 < test_fraction < 1 and dev_fraction + test_fraction < 1):
        raise InputError(f"--clf_dev_fraction={dev_fraction} --clf_test_fraction={test_fraction}: "
                         "each must be in (0, 1) and their sum below 1")


def split(n, dev_fraction, test_fraction, seed):
    """Deterministic index split by sentence: (train, dev, test) arrays from one seeded permutation.
    Only for data without documents: NLPCC is split by weibo (split_by_group)."""
    _check_fractions(dev_fraction, test_fraction)
    order = np.random.RandomState(seed).permutation(n)
    n_test, n_dev = int(round(n * test_fraction)), int(round(n * dev_fraction))
    if n - n_test - n_dev < 1 or n_test < 1 or n_dev < 1:
        raise InputError(f"--input: {n} sentences are too few for a train/dev/test split")
    return np.sort(order[n_test + n_dev:]), np.sort(order[n_test:n_test + n_dev]), np.sort(order[:n_test])


def split_by_group(groups, dev_fraction, test_fraction, seed):
    """Deterministic split of whole groups (weibos): (train, dev, test) sorted index arrays.

    groups[i] names example i's group. The distinct groups (in first-seen order) are put in one seeded
    order; test takes groups from its front until it holds round(n * test_fraction) examples or more,
    then dev likewise, and train the rest. No group is in two splits."""
    _check_fractions(dev_fraction, test_fraction)
    n = len(groups)
    members = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    names = list(members)
    order = np.random.RandomState(seed).permutation(len(names))
    want = [int(round(n * test_fraction)), int(round(n * dev_fraction))]
    parts, cur = [[], [], []], 0  # test, dev, train
    for j in order:
        while cur < 2 and len(parts[cur]) >= want[cur]:
            cur += 1
        parts[cur].extend(members[names[j]])
    te, dv, tr = (np.sort(np.asarray(p, dtype=np.int64)) for p in parts)
    if len(tr) < 1 or len(dv) < 1 or len(te) < 1:
        raise InputError(f"--input: {n} sentences in {len(names)} weibos are too few for a train/dev/test "
                         "split by weibo")
    return tr, dv, te


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
