"""Word vocabulary of the neural emotion classifiers, with a content hash for mismatch checks."""

import collections

from ecm_tf.data.vocab import PAD, UNK, TokenVocabulary

PAD_ID, UNK_ID = 0, 1


class ClassifierVocabulary(TokenVocabulary):
    """Frequency-sorted word list; id 0 is _PAD, id 1 is _UNK (data/vocab.TokenVocabulary).

    Args:
      words: list[str], the full list including _PAD and _UNK at ids 0 and 1.
    """

    SPECIALS = (PAD, UNK)
    KIND = "classifier vocabulary"

    @classmethod
    def build(cls, token_lists, max_size, min_count):
        """Words of `token_lists` seen at least `min_count` times, most frequent first (ties: by word)."""
        counts = collections.Counter(t for tokens in token_lists for t in tokens)
        return cls([PAD, UNK] + cls.ranked(counts, max_size - 2, min_count))

    @property
    def words(self):
        return self._tokens

    def encode(self, tokens):
        """list[str] -> list[int], unknown words -> _UNK."""
        return self.lookup(tokens)
