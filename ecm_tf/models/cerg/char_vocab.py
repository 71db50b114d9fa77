"""The joint character vocabulary of CERG and P&E2R (post, response and emotion tokens share it).

Ids: 0..3 = _PAD _UNK _EOS _GO (as every vocabulary of the package), 4 = [SEP], 5 = [MASK]
(used by the substitute masked LM), 6..11 = the emotion tokens [Other] .. [Happy] in emotion-id
order, then the training characters by decreasing frequency (ties by character).
Saved as `char_vocab.txt` in the model folder, one token per line, line number = id.
"""

import collections
import os

from ecm_tf import emotions
from ecm_tf.data.vocab import EOS, GO, PAD, UNK, TokenVocabulary
from ecm_tf.errors import InputError

FILE = "char_vocab.txt"
SEP, MASK = "[SEP]", "[MASK]"
EMOTION_TOKENS = tuple(f"[{n}]" for n in emotions.NAMES)
SPECIALS = (PAD, UNK, EOS, GO, SEP, MASK) + EMOTION_TOKENS
PAD_ID, UNK_ID, EOS_ID, GO_ID, SEP_ID, MASK_ID = range(6)
FIRST_EMOTION_ID = 6
FIRST_CHAR_ID = len(SPECIALS)


class CharVocabulary(TokenVocabulary):
    """Character <-> id map with the special tokens above (data/vocab.TokenVocabulary).

    Args:
      tokens: list[str], all tokens in id order, starting with SPECIALS.
    """

    SPECIALS = SPECIALS
    KIND = "character vocabulary"

    @property
    def tokens(self):
        return list(self._tokens)

    def ids(self, chars):
        return self.lookup(chars)

    def chars(self, ids):
        """Characters of `ids`, stopping at _EOS, skipping _PAD and special tokens."""
        out = []
        for i in ids:
            i = int(i)
            if i == EOS_ID:
                break
            if i >= FIRST_CHAR_ID or i == UNK_ID:
                out.append(self._tokens[i] if i < len(self._tokens) else UNK)
        return out

    def save(self, folder):
        super().save(os.path.join(folder, FILE))

    @classmethod
    def load(cls, folder):
        path = os.path.join(folder, FILE)
        if not os.path.exists(path):
            raise InputError(f"{path}: no such file (is {folder} a trained CERG/P&E2R folder?)")
        return super().load(path)


def build(char_lists, size):
    """Vocabulary of the `size - len(SPECIALS)` most frequent characters of `char_lists`."""
    if size <= FIRST_CHAR_ID:
        raise InputError(f"--vocab_size={size}: must be larger than {FIRST_CHAR_ID} (the special tokens)")
    counts = collections.Counter()
    for chars in char_lists:
        counts.update(chars)
    for s in SPECIALS:
        counts.pop(s, None)
    return CharVocabulary(list(SPECIALS) + CharVocabulary.ranked(counts, size - FIRST_CHAR_ID))
