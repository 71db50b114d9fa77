"""The built-in default corpus: the LCCC sample shipped inside the package (12,000 Weibo pairs, MIT).

`ecm_tf/data/builtin_corpus/` holds the sample of LCCC (Wang et al. 2020) published with CDial-GPT
(thu-coai/CDial-GPT `data/toy_train.txt`, `data/toy_valid.txt`), byte for byte, gzip-compressed,
with its MIT licence (`LICENSE`) and attribution (`README.md`): one pair a line, `post<TAB>response`,
characters split by spaces (re-joined here so that jieba segments words again), no emotion labels
(prep labels them with --label_source, by default the DUTIR lexicon classifier). Used by
`--mode=prep` when `--input` is empty, so that the quick start runs offline with no data: the
10,000 train pairs are the train split and the 2,000 valid pairs the dev split.
"""

import gzip
import os

from ecm_tf.data import text as text_lib
from ecm_tf.data.pair import Pair
from ecm_tf.errors import InputError

FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "builtin_corpus")
FILES = {"train": "lccc_toy_train.txt.gz", "dev": "lccc_toy_valid.txt.gz"}
NAME = "LCCC sample (12,000 Weibo pairs, MIT)"
SOURCE = "built-in:lccc_toy"


def read_file(path):
    """Pairs of one gzip-compressed LCCC file (`post<TAB>response`, characters split by spaces)."""
    name = os.path.basename(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (the package data of ecm_tf is missing; reinstall ecm_tf)") from None
    except (OSError, EOFError) as e:
        raise InputError(f"{path}: not a readable gzip file ({e})") from None
    pairs = []
    for i, line in enumerate(raw.split(b"\n"), 1):
        try:
            line = line.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            raise InputError(f"{name}:{i}: invalid UTF-8") from None
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) != 2:
            raise InputError(f"{name}:{i}: expected post<TAB>response, got {len(cols)} column(s)")
        post, resp = text_lib.join_chars(cols[0]), text_lib.join_chars(cols[1])
        if not post or not resp:
            raise InputError(f"{name}:{i}: empty {'post' if not post else 'response'}")
        pairs.append(Pair(post, resp, None, None, f"{name}:{i}"))
    if not pairs:
        raise InputError(f"{path}: no pairs")
    return pairs


def load_splits(folder=None):
    """{"train": pairs, "dev": pairs} of the built-in corpus (unlabelled)."""
    folder = folder or FOLDER
    return {split: read_file(os.path.join(folder, name)) for split, name in FILES.items()}


def load_pairs(folder=None):
    """All pairs of the built-in corpus, train then dev."""
    splits = load_splits(folder)
    return splits["train"] + splits["dev"]
