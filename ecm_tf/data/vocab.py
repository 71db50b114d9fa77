"""Vocabularies: the base class of every token <-> id table of the package, and ECM's word vocabularies.

`TokenVocabulary` is the base: a file of one token a line (line number = id) that starts with
the subclass's SPECIALS, unknown tokens looked up as _UNK (id 1), a content hash, atomic save and
a one-line error naming the file. Its variants: `WordVocabulary` (here: ECM's post and response words,
ids 0..3 = _PAD _UNK _EOS _GO, as the original code; digits normalised to 0 before counting),
`classifier.vocabulary.ClassifierVocabulary` (_PAD _UNK) and `models.cerg.char_vocab.CharVocabulary`
(characters, emotion tokens). Post and response vocabularies are separate files
(`vocab.post.txt`, `vocab.response.txt`).
"""

import collections
import hashlib
import os

from ecm_tf.data import text as text_lib
from ecm_tf.errors import InputError
from ecm_tf import io_utils

PAD, UNK, EOS, GO = "_PAD", "_UNK", "_EOS", "_GO"
SPECIALS = (PAD, UNK, EOS, GO)
PAD_ID, UNK_ID, EOS_ID, GO_ID = range(4)

POST_FILE = "vocab.post.txt"
RESPONSE_FILE = "vocab.response.txt"


class TokenVocabulary:
    """Token <-> id table whose first ids are the class's SPECIALS (id 1 = _UNK in every variant).

    Args:
      tokens: list[str], every token in id order, starting with SPECIALS.
    """

    SPECIALS = (PAD, UNK)
    KIND = "vocabulary"  # how errors name the file

    def __init__(self, tokens):
        tokens = list(tokens)
        if tuple(tokens[: len(self.SPECIALS)]) != self.SPECIALS:
            raise ValueError(f"a {self.KIND} starts with {' '.join(self.SPECIALS)}, got {tokens[: len(self.SPECIALS)]}")
        self._tokens = tokens
        self._ids = {t: i for i, t in enumerate(tokens)}

    def __len__(self):
        return len(self._tokens)

    def __contains__(self, token):
        return token in self._ids

    def lookup(self, tokens):
        """Ids of `tokens`, _UNK (1) for unknown ones."""
        return [self._ids.get(t, UNK_ID) for t in tokens]

    def text(self):
        """The file's content: one token a line."""
        return "".join(t + "\n" for t in self._tokens)

    def sha256(self):
        return hashlib.sha256(self.text().encode("utf-8")).hexdigest()

    def save(self, path):
        with io_utils.atomic_open(path) as f:
            f.write(self.text())

    @classmethod
    def load(cls, path):
        """The vocabulary of a file; InputError naming the file when it is missing or is another kind."""
        if not os.path.exists(path):
            raise InputError(f"{path}: {cls.KIND} file missing")
        tokens = io_utils.read_lines(path)
        if tuple(tokens[: len(cls.SPECIALS)]) != cls.SPECIALS:
            raise InputError(f"{path}:1: not a {cls.KIND} (must start with {' '.join(cls.SPECIALS)})")
        return cls(tokens)

    @staticmethod
    def ranked(counts, size, min_count=1):
        """The `size` most frequent tokens of a Counter seen at least `min_count` times (ties by token)."""
        kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
        return kept[: max(0, size)]


class WordVocabulary(TokenVocabulary):
    """ECM's word vocabulary: ids 0..3 = _PAD _UNK _EOS _GO, then words by frequency.

    Args:
      words: list[str], the words in id order; the first four must be _PAD _UNK _EOS _GO.
    """

    SPECIALS = SPECIALS

    @property
    def word_list(self):
        return list(self._tokens)

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
                out.append(self._tokens[i] if 0 <= i < len(self._tokens) else UNK)
        return out



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
    return WordVocabulary(list(SPECIALS) + WordVocabulary.ranked(counts, size - len(SPECIALS)))


def load_pair(folder, flag="--vocab_dir"):
    """(post_vocab, response_vocab) from a prep folder, naming any missing file."""
    missing = [n for n in (POST_FILE, RESPONSE_FILE) if not os.path.exists(os.path.join(folder, n))]
    if missing:
        raise InputError(f"{flag}={folder}: missing {', '.join(missing)} (not a prep output folder?)")
    return tuple(WordVocabulary.load(os.path.join(folder, name)) for name in (POST_FILE, RESPONSE_FILE))
