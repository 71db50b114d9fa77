"""The emotion-interaction table of a training corpus, and the response emotion it suggests.

The ECM paper's future work: "use the training data to find the most frequent response emotion
category for the emotion in the given post". `--mode=prep` counts, over the train split, how
often a post of emotion e_p got a response of emotion e_r (both labelled by the file or the
classifier) and saves `interaction.json` beside the TFRecords:

    {"counts": [[n(e_p=0, e_r=0), ...], ...],   # [6, 6], rows post emotion (ECM Figure 5)
     "pairs": N}

`choose(counts, post_emotion, k)` gives the k most frequent response emotions for that post
emotion, Other excluded (it is never generated), ties by emotion id; a post emotion the corpus
has no pairs for falls back to the response emotions of the whole corpus.
"""

import os

import numpy as np

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.errors import InputError

FILE = "interaction.json"


def counts_of(pairs):
    """[6, 6] int64 counts of (post emotion, response emotion) pairs; unlabelled (-1/None) skipped."""
    m = np.zeros((emotions.NUM_EMOTIONS, emotions.NUM_EMOTIONS), dtype=np.int64)
    for post_e, resp_e in pairs:
        if post_e is not None and resp_e is not None and post_e >= 0 and resp_e >= 0:
            m[post_e, resp_e] += 1
    return m


def conditional(counts):
    """P(e_r | e_p): rows normalised to sum 1 (rows without pairs stay 0)."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.where(totals > 0, counts / np.maximum(totals, 1), 0.0)


def save(folder, pairs):
    counts = counts_of(pairs)
    io_utils.write_json(os.path.join(folder, FILE), {"counts": counts.tolist(), "pairs": int(counts.sum())})


def load(data_dir, label_posts=None):
    """The [6, 6] counts of a prep folder: its interaction.json, else counted from its train split
    (a folder written before the table existed), the posts labelled by `label_posts(texts) -> ids`
    where prep did not label them. InputError when no pair has both labels."""
    path = os.path.join(data_dir, FILE)
    if os.path.exists(path):
        counts = np.asarray(io_utils.read_json(path).get("counts"), dtype=np.int64)
        if counts.shape != (emotions.NUM_EMOTIONS, emotions.NUM_EMOTIONS):
            raise InputError(f"{path}: expected a {emotions.NUM_EMOTIONS} x {emotions.NUM_EMOTIONS} 'counts' table")
    else:
        from ecm_tf.data import pipeline

        examples = pipeline.read_split(data_dir, "train")
        post_emotions = [ex["post_emotion"] for ex in examples]
        todo = [i for i, e in enumerate(post_emotions) if e < 0]
        if todo and label_posts is not None:
            for i, e in zip(todo, label_posts([examples[i]["post_text"] for i in todo])):
                post_emotions[i] = int(e)
        counts = counts_of(zip(post_emotions, (ex["emotion"] for ex in examples)))
    if counts.sum() == 0:
        raise InputError(f"--data_dir={data_dir}: no training pair has both a post and a response emotion "
                         f"(re-run --mode=prep to write {FILE})")
    return counts


def choose(counts, post_emotion, k=1):
    """The k most frequent non-Other response emotions for `post_emotion` (see the module docstring)."""
    row = np.asarray(counts[post_emotion], dtype=np.int64)
    if row[list(emotions.GENERATED)].sum() == 0:
        row = np.asarray(counts, dtype=np.int64).sum(axis=0)  # the corpus's response emotions
    ranked = sorted(emotions.GENERATED, key=lambda e: (-int(row[e]), e))
    return ranked[: max(1, k)]


def best_per_post_emotion(counts):
    """[6] the top choice for each post emotion (what the SavedModel looks up in its graph)."""
    return [choose(counts, e, 1)[0] for e in range(emotions.NUM_EMOTIONS)]
