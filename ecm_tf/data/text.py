"""Text normalisation and segmentation shared by every reader and model.

- URLs and @mentions are removed (Weibo posts are full of them; they carry no emotion);
- a character repeated more than 3 times is capped at 3 ("哈哈哈哈哈" -> "哈哈哈");
- raw text is segmented with jieba (ECM) or split into characters (CERG); text that already
  contains spaces is taken as segmented and passes through;
- digits become "0" when vocabularies are built (`normalize_digits`), as the original code does.
"""

import logging
import re

from ecm_tf import io_utils

_URL_RE = re.compile(r"(?:https?://|www\.)[\w\-./?%&=#:~+@]*", re.IGNORECASE)
_MENTION_RE = re.compile(r"@[\w\-\u4e00-\u9fff]+[:：]?")
_REPEAT_RE = re.compile(r"(.)\1{3,}")
_DIGIT_RE = re.compile(r"\d")
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")
_SPACE_RE = re.compile(r"\s+")

_jieba = None


def _get_jieba():
    global _jieba
    if _jieba is None:
        import jieba

        # jieba logs a failed cache write as an error with its traceback; the run goes on without
        # the cache, so it is kept quiet.
        jieba.setLogLevel(logging.CRITICAL)
        # jieba's own cache, /tmp/jieba.cache, may belong to another user (mode 0600): jieba could then
        # neither read nor replace it, and printed two tracebacks on every run.
        jieba.dt.tmp_dir = io_utils.user_cache_dir()
        jieba.initialize()
        _jieba = jieba
    return _jieba


def clean(text):
    """Removes URLs and @mentions, caps repeats at 3, collapses whitespace."""
    text = _URL_RE.sub(" ", text)
    text = _MENTION_RE.sub(" ", text)
    text = _REPEAT_RE.sub(lambda m: m.group(1) * 3, text)
    return _SPACE_RE.sub(" ", text).strip()


def cap_repeats(token):
    return _REPEAT_RE.sub(lambda m: m.group(1) * 3, token)


def normalize_digits(token):
    """'2018年' -> '0000年' (the original data_utils rule)."""
    return _DIGIT_RE.sub("0", token)


def is_segmented(text):
    """True for space-segmented text: several tokens, short on average (raw Weibo text may hold
    a few spaces between long clauses, which are not word boundaries)."""
    tokens = text.split()
    return len(tokens) >= 2 and sum(len(t) for t in tokens) / len(tokens) <= 3.0


def has_cjk(text):
    return bool(_CJK_RE.search(text))


def join_chars(text):
    """Undoes LCCC's character split: removes spaces except between two ASCII alphanumerics."""
    tokens = text.split()
    out = []
    for tok in tokens:
        if out and out[-1][-1:].isascii() and out[-1][-1:].isalnum() and tok[:1].isascii() and tok[:1].isalnum():
            out.append(" ")
        out.append(tok)
    return "".join(out)


def segment(text, level="word"):
    """Cleans `text` and returns its tokens.

    level="word": jieba words, or the existing tokens if the text is already space-segmented.
    level="char": one token per character (spaces dropped), ASCII words kept whole.
    """
    segmented = is_segmented(text)
    text = clean(text)
    if not text:
        return []
    if level == "char":
        return [t for t in re.findall(r"[A-Za-z0-9]+|\S", text)]
    if segmented:
        return [cap_repeats(t) for t in text.split(" ") if t]
    return [t for t in _get_jieba().lcut(text, HMM=True) if t.strip()]
