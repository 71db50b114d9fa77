"""Word vocabularies as in the original ECM code: frequency-sorted, ids 0..3 = _PAD _UNK _EOS _GO.

Post and response vocabularies are separate files (`vocab.post.txt`, `vocab.response.txt`), one
word per line, line number = id. Digits are normalised to 0 before counting.
"""

import collections
import os

from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError
from ecm_tf import io_utils

PAD, UNK, EOS, GO = "_PAD", "_UNK", "_EOS", "_GO"
SPECIALS = (PAD, UNK, EOS, GO)
PAD_ID, UNK_ID, EOS_ID, GO_ID = range(4)

POST_FILE = "vocab.post.txt"
RESPONSE_FILE = "vocab.response.txt"


class Vocab:
    """Bidirectional word <-> id map.

    Args:
      words: list[str], the words in id order; the first four must be _PAD _UNK _EOS _GO.
    """

    def __init__(self, words):
        words = list(words)
        if tuple(words[:4]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {' '.join(SPECIALS)}, got {words[:4]}")
        self._words = words
        self._ids = {w: i for i, w in enumerate(words)}

    def __len__(self):
        return len(self._words)

    def __contains__(self, word):
        return word in self._ids

    @property
    def word_list(self):
        return list(self._words)

    def id(self, word):
        return self._ids.get(word, UNK_ID)

    def ids(self, tokens):
        """Token ids, _UNK (1) for unknown words; digits are normalised first, as when counting."""
        known = self._ids
        return [known[t] if t in known else known.get(text_lib.normalize_digits(t), UNK_ID) for t in tokens]

    def words(self, ids):
        """Words of `ids`, stopping at _EOS and skipping _PAD."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i != PAD_ID:
                out.append(self._words[i] if 0 <= i < len(self._words) else UNK)
        return out

    def save(self, path):
        with io_utils.atomic_open(path) as f:
            f.write("\n".join(self._words) + "\n")

    @classmethod
    def load(cls, path):
        if not os.path.exists(path):
            raise InputError(f"{path}: vocabulary file missing")
        words = io_utils.read_lines(path)
        if tuple(words[:4]) != SPECIALS:
            raise InputError(f"{path}:1: not a vocabulary (must start with {' '.join(SPECIALS)})")
        return cls(words)


def build(token_lists, size):
    """Vocabulary of the `size - 4` most frequent tokens (ties by word), after the specials.

    Args:
      token_lists: iterable of list[str], already digit-normalised tokens.
      size: int, total size including the four specials.
    """
    if size <= len(SPECIALS):
        raise InputError(f"--vocab_size={size}: must be larger than {len(SPECIALS)} (the special tokens)")
    counts = collections.Counter()
    for tokens in token_lists:
        counts.update(tokens)
    for s in SPECIALS:
        counts.pop(s, None)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Vocab(list(SPECIALS) + [w for w, _ in ranked[: size - len(SPECIALS)]])


def load_pair(folder, flag="--vocab_dir"):
    """(post_vocab, response_vocab) from a prep folder, naming any missing file."""
    missing = [n for n in (POST_FILE, RESPONSE_FILE) if not os.path.exists(os.path.join(folder, n))]
    if missing:
        raise InputError(f"{flag}={folder}: missing {', '.join(missing)} (not a prep output folder?)")
    return Vocab.load(os.path.join(folder, POST_FILE)), Vocab.load(os.path.join(folder, RESPONSE_FILE))
