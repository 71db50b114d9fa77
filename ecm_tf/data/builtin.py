"""The built-in default corpus: the Chinese conversations shipped by the `chatterbot-corpus` package.

Each `chatterbot_corpus/data/chinese/*.yml` file holds `conversations:`, lists of utterances;
consecutive utterances become (post, response) pairs (about 550 pairs, unlabelled). Used by
`--mode=prep` when `--input` is empty, so that the quickstart runs offline with no data.
"""

import glob
import os

import yaml

from ecm_tf.data.pair import Pair
from ecm_tf.errors import InputError


def corpus_folder():
    import chatterbot_corpus

    return os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data", "chinese")


def load_pairs(folder=None):
    """Pairs of consecutive utterances of every conversation, files in name order."""
    folder = folder or corpus_folder()
    files = sorted(glob.glob(os.path.join(folder, "*.yml")))
    if not files:
        raise InputError(f"{folder}: no *.yml conversation files (is chatterbot-corpus installed?)")
    pairs = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            try:
                doc = yaml.safe_load(f) or {}
            except yaml.YAMLError as e:
                raise InputError(f"{path}: malformed YAML ({str(e).splitlines()[0]})") from None
        for k, conv in enumerate(doc.get("conversations") or [], 1):
            turns = [str(t).strip() for t in conv or [] if t is not None]
            for j in range(len(turns) - 1):
                if turns[j] and turns[j + 1]:
                    pairs.append(Pair(turns[j], turns[j + 1], None, None,
                                      f"{os.path.basename(path)} conversation {k} turn {j + 1}"))
    return pairs
