"""The one place that owns emotion ids, names and the mappings from other label sets.

Ids follow the original ECM release (also NLPCC 2017 ECG / NTCIR-14 CECG):
0 Other, 1 Like, 2 Sad, 3 Disgust, 4 Angry, 5 Happy.
"""

from ecm_tf.errors import InputError

NAMES = ("Other", "Like", "Sad", "Disgust", "Angry", "Happy")
NUM_EMOTIONS = len(NAMES)
OTHER, LIKE, SAD, DISGUST, ANGRY, HAPPY = range(NUM_EMOTIONS)
# Emotions a response is generated for at test time (Other is training-only).
GENERATED = (LIKE, SAD, DISGUST, ANGRY, HAPPY)

_BY_NAME = {n.lower(): i for i, n in enumerate(NAMES)}
_BY_NAME.update({"sadness": SAD, "anger": ANGRY, "happiness": HAPPY, "none": OTHER})

# NLPCC 2013/2014 Weibo emotion labels; fear and surprise are dropped (None).
NLPCC_TO_ID = {
    "none": OTHER,
    "like": LIKE,
    "sadness": SAD,
    "disgust": DISGUST,
    "anger": ANGRY,
    "happiness": HAPPY,
    "fear": None,
    "surprise": None,
}

# DUTIR emotion ontology (大连理工情感词汇本体) top-level classes -> ECM ids.
# 惧 (fear) and 惊 (surprise) words count as Other, as the ECM authors advised.
DUTIR_TO_ID = {"乐": HAPPY, "好": LIKE, "怒": ANGRY, "哀": SAD, "恶": DISGUST, "惧": OTHER, "惊": OTHER}


def emotion_id(value, where="emotion"):
    """Returns the id for an emotion given as a name ("Sad", "sadness") or id ("2", 2).

    Raises InputError naming `where` (a flag or file:line) for anything else.
    """
    if isinstance(value, bool):
        raise InputError(f"{where}: unknown emotion {value!r}; expected one of {', '.join(NAMES)} or 0..5")
    if isinstance(value, int):
        if 0 <= value < NUM_EMOTIONS:
            return value
    else:
        text = str(value).strip()
        if text.isdigit() and 0 <= int(text) < NUM_EMOTIONS:
            return int(text)
        if text.lower() in _BY_NAME:
            return _BY_NAME[text.lower()]
    raise InputError(f"{where}: unknown emotion {value!r}; expected one of {', '.join(NAMES)} or 0..5")


def lookup_keys():
    """{lower-case name or id string: id}: every spelling emotion_id accepts (for in-graph tables)."""
    return {**_BY_NAME, **{str(i): i for i in range(NUM_EMOTIONS)}}


def emotion_name(eid):
    return NAMES[eid]


def parse_emotion_list(value, where="--emotion"):
    """'all' -> the five generated emotions; 'Sad,Happy' -> [2, 5]."""
    if str(value).strip().lower() == "all":
        return list(GENERATED)
    return [emotion_id(v, where) for v in str(value).split(",") if v.strip()]
