"""The character-level text rules of text.py as TensorFlow ops, for SavedModels that take raw text.

`char_tokens(texts)` gives, inside a graph, the tokens that `[normalize_digits(t) for t in
text.segment(s, level="char")]` gives in Python: URLs and @mentions removed, a character repeated
more than 3 times capped at 3, one token per character with ASCII letter/digit runs kept whole,
digits as "0". `join_tokens(tokens)` undoes it as `text.join_chars` does. Python's `\\w`, `\\s`
and `\\d` are Unicode classes while RE2's are ASCII, so the patterns spell the Unicode classes
out; tests/test_data_graph_text.py checks both sides on the same strings.
"""

import tensorflow as tf

_WORD = r"\p{L}\p{N}_"
_URL = r"(?i)(?:https?://|www\.)[" + _WORD + r"\-./?%&=#:~+@]*"
_MENTION = r"@[" + _WORD + r"\-]+[:：]?"
# str.isspace(): ASCII whitespace with \v, the separators \x1c-\x1f, NEL and the Unicode Z classes.
_SPACE = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"
_ALNUM = "A-Za-z0-9"


def _cap_repeats(texts):
    """Drops every character that is the 4th or later of a run of one character: [B] -> [B]."""
    chars = tf.strings.unicode_split(texts, "UTF-8")  # ragged [B, C]
    flat = chars.flat_values  # [N]
    position = tf.ragged.range(chars.row_lengths()).flat_values  # [N], index within its text
    same = tf.concat([[False], tf.equal(flat[1:], flat[:-1])], 0)  # [N], equal to the previous character
    run3 = tf.logical_and(same, tf.logical_and(tf.concat([[False], same[:-1]], 0),
                                               tf.concat([[False, False], same[:-2]], 0)))
    drop = tf.logical_and(run3, position >= 3)  # three equal predecessors within the same text
    return tf.strings.reduce_join(tf.ragged.boolean_mask(chars, chars.with_flat_values(tf.logical_not(drop))),
                                  axis=-1)


def clean(texts):
    """text.clean for a [B] string tensor."""
    texts = tf.strings.regex_replace(texts, _URL, " ")
    texts = tf.strings.regex_replace(texts, _MENTION, " ")
    texts = _cap_repeats(texts)
    return tf.strings.strip(tf.strings.regex_replace(texts, _SPACE, " "))


def char_tokens(texts):
    """Ragged [B, None] string tokens of raw texts [B], as text.segment(level="char") + digits -> 0."""
    texts = clean(texts)
    spaced = tf.strings.regex_replace(texts, "([^ " + _ALNUM + "])", r" \1 ")
    tokens = tf.strings.split(tf.strings.regex_replace(spaced, " +", " "), sep=" ")
    tokens = tf.ragged.boolean_mask(tokens, tf.strings.length(tokens) > 0)
    return tf.strings.regex_replace(tokens, r"\p{Nd}", "0")


def join_tokens(tokens):
    """text.join_chars of ragged [B, None] tokens: concatenated, with a space only between two
    ASCII letters/digits at a token boundary. -> [B] strings."""
    ends = tf.strings.regex_full_match(tokens, ".*[" + _ALNUM + "]")
    starts = tf.strings.regex_full_match(tokens, "[" + _ALNUM + "].*")
    first = tf.equal(tf.ragged.range(tokens.row_lengths()), 0)
    prev_ends = tf.concat([[False], ends.flat_values[:-1]], 0)  # [N]; garbage at row starts, masked by `first`
    space = tf.logical_and(tf.logical_and(starts.flat_values, prev_ends), tf.logical_not(first.flat_values))
    joined = tf.where(space, tf.strings.join([" ", tokens.flat_values]), tokens.flat_values)
    return tf.strings.reduce_join(tokens.with_flat_values(joined), axis=-1)
