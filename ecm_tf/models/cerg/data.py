"""Training pairs of CERG and P&E2R: characters from the prepped TFRecords, as padded id arrays.

Source: the TFRecords of `--mode=prep --token_level=char` (their post_text/response_text hold the
characters, space separated, after text.clean: URLs/mentions removed, repeats capped at 3, digits
as 0), read into memory with `pipeline.read_split`. Prep also labels the response emotions (file
labels or the emotion classifier), which the LCCC-style corpora lack. Here a pair is dropped when
its post or response has no Chinese character, or is longer than cerg_max_chars characters.

Arrays (numpy, 0 = _PAD): emotion [N], post [N, P], response [N, R], target [N, R + 1]
(= response + _EOS), with P = R = cerg_max_chars.
"""

import collections

import numpy as np

from ecm_tf.models.cerg import char_vocab
from ecm_tf.data import text as text_lib


def chars_of(text, level_split=False):
    """Characters of a raw utterance (cleaned, repeats capped, digits -> 0), or of a prepped one."""
    if level_split:
        return [t for t in text.split(" ") if t]
    return [text_lib.normalize_digits(t) for t in text_lib.segment(text, level="char")]


def drop_reason(post, response, max_chars):
    if not text_lib.has_cjk("".join(post)):
        return "post_without_chinese"
    if not text_lib.has_cjk("".join(response)):
        return "response_without_chinese"
    if len(post) > max_chars:
        return "post_too_long"
    if len(response) > max_chars:
        return "response_too_long"
    return None


def load_split(data_dir, split, max_chars):
    """(list of (post chars, response chars, emotion), dropped counts) of a prep split."""
    from ecm_tf.data import pipeline

    kept, dropped = [], collections.Counter()
    for ex in pipeline.read_split(data_dir, split):
        post, response = chars_of(ex["post_text"], True), chars_of(ex["response_text"], True)
        reason = drop_reason(post, response, max_chars)
        if reason:
            dropped[reason] += 1
        else:
            kept.append((post, response, int(ex["emotion"])))
    return kept, dict(dropped)


def pad(rows, width):
    out = np.zeros([len(rows), width], np.int32)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row[:width]
    return out


def encode_posts(vocab, posts, max_chars):
    """Post id array [N, P] of chars lists (longer posts keep their first P characters)."""
    return pad([vocab.ids(p) for p in posts], max_chars)


def to_arrays(vocab, pairs, max_chars):
    """Dict of id arrays (module docstring) for (post, response, emotion) triples."""
    responses = [vocab.ids(r) for _, r, _ in pairs]
    return {
        "emotion": np.array([e for _, _, e in pairs], np.int32),
        "post": encode_posts(vocab, [p for p, _, _ in pairs], max_chars),
        "response": pad(responses, max_chars),
        "target": pad([r + [char_vocab.EOS_ID] for r in responses], max_chars + 1),
    }
