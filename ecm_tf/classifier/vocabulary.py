"""Word vocabulary of the neural emotion classifiers, with a content hash for mismatch checks."""

import collections
import hashlib
import os

from ecm_tf import io_utils
from ecm_tf.errors import InputError

PAD, UNK = "_PAD", "_UNK"
PAD_ID, UNK_ID = 0, 1


class Vocabulary:
    """Frequency-sorted word list; id 0 is _PAD, id 1 is _UNK.

    Args:
      words: list[str], the full list including _PAD and _UNK at ids 0 and 1.
    """

    def __init__(self, words):
        if list(words[:2]) != [PAD, UNK]:
            raise ValueError("a classifier vocabulary starts with _PAD, _UNK")
        self.words = list(words)
        self._ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, token_lists, max_size, min_count):
        """Words of `token_lists` seen at least `min_count` times, most frequent first (ties: by word)."""
        counts = collections.Counter(t for tokens in token_lists for t in tokens)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls([PAD, UNK] + ranked[: max(0, max_size - 2)])

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        """list[str] -> list[int], unknown words -> _UNK."""
        return [self._ids.get(t, UNK_ID) for t in tokens]

    def text(self):
        return "".join(w + "\n" for w in self.words)

    def sha256(self):
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()

    def save(self, path):
        with io_utils.atomic_open(path) as f:
            f.write(self.text())

    @classmethod
    def load(cls, path):
        if not os.path.exists(path):
            raise InputError(f"{path}: no classifier vocabulary")
        words = io_utils.read_lines(path)
        if words[:2] != [PAD, UNK]:
            raise InputError(f"{path}:1: a classifier vocabulary starts with {PAD} and {UNK}")
        return cls(words)
