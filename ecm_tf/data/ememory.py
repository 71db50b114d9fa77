"""External memory (ECM Sec. 3.4): which response-vocabulary words are emotion words of each class.

The emotion word lists (DUTIR lexicon by default, or `--ememory_words`, a JSON file of six lists in
the original release format) are intersected with the response vocabulary, giving a uint8 mask
`[6, V]` (row e = emotion e's words). The special tokens are never emotion words.
Saved as `ememory.npy` (the mask) and `ememory.json` (the six word lists).
"""

import json
import os
import sys

import numpy as np

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data import lexicon as lexicon_lib
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.errors import InputError

MASK_FILE = "ememory.npy"
WORDS_FILE = "ememory.json"


def build_mask(response_vocab, lexicon):
    """Returns (mask uint8 [6, V], list of emotion ids with no word in the vocabulary).

    Args:
      response_vocab: vocab.WordVocabulary, the response vocabulary.
      lexicon: dict {emotion_id: set(words)}, e.g. lexicon.load_lexicon().
    """
    words = response_vocab.word_list
    mask = np.zeros([emotions.NUM_EMOTIONS, len(words)], np.uint8)  # [6, V]
    for e in range(emotions.NUM_EMOTIONS):
        class_words = lexicon.get(e, ())
        for i, w in enumerate(words):
            if i >= len(vocab_lib.SPECIALS) and w in class_words:
                mask[e, i] = 1
    empty = [e for e in range(emotions.NUM_EMOTIONS) if not mask[e].any()]
    return mask, empty


def warn_empty(empty, token_level="word"):
    """Prints one warning line per emotion class without any emotion word in the vocabulary
    (one note for character tokens, which the multi-character lexicon words rarely match)."""
    if token_level == "char":
        if empty:
            print(f"note: external memory: character tokens match no lexicon word for {len(empty)} of the "
                  f"{emotions.NUM_EMOTIONS} emotions; the ECM external memory needs word tokens "
                  f"(CERG and P&E2R do not use it)", file=sys.stderr, flush=True)
        return
    for e in empty:
        print(f"warning: external memory: no {emotions.emotion_name(e)} word of the lexicon is in the "
              f"response vocabulary; the {emotions.emotion_name(e)} emotion vocabulary is empty",
              file=sys.stderr, flush=True)


def build(response_vocab, ememory_words="", token_level="word"):
    """build_mask from the DUTIR lexicon or an `--ememory_words` JSON file, with warnings."""
    mask, empty = build_mask(response_vocab, lexicon_lib.load_lexicon(ememory_words))
    warn_empty(empty, token_level)
    return mask, empty


def save(folder, mask, response_vocab):
    words = response_vocab.word_list
    with io_utils.atomic_path(os.path.join(folder, MASK_FILE)) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, mask)
    lists = [[words[i] for i in np.flatnonzero(row)] for row in mask]
    with io_utils.atomic_open(os.path.join(folder, WORDS_FILE)) as f:
        json.dump(lists, f, ensure_ascii=False)
        f.write("\n")


def load_mask(data_dir):
    """The uint8 [6, V] mask of a prep folder."""
    path = os.path.join(data_dir, MASK_FILE)
    if not os.path.exists(path):
        raise InputError(f"{path}: external-memory mask missing (run --mode=prep)")
    mask = np.load(path)
    if mask.ndim != 2 or mask.shape[0] != emotions.NUM_EMOTIONS:
        raise InputError(f"{path}: expected a [{emotions.NUM_EMOTIONS}, V] mask, got shape {list(mask.shape)}")
    return mask.astype(np.uint8)
