"""CPED (Chen et al. 2022): Chinese TV-series dialogues, every utterance labelled by people.

The CSV (UTF-8, usually with a BOM; CRLF line ends) has a header naming at least `Dialogue_ID`,
`Speaker`, `Emotion` and `Utterance` (the other columns, e.g. `Utterance_ID`, `Sentiment`, `DA`
and the speaker traits, are ignored). Rows of one dialogue are consecutive, in speaking order.

- `read_cped_pairs` (`--input_format=cped`): every two adjacent utterances of one dialogue make a
  Pair; the response's human emotion is its label, the post's is the post emotion.
  `--cped_speaker_change` keeps only the pairs whose two utterances have different speakers
  (a reply rather than a speaker's own next sentence).
- `read_cped_utterances`: every utterance with its label, as classifier data.

CPED's 13 emotions map to ECM's six with `EMOTION_MAP` (justified class by class in
docs/data.md, "CPED"); `--cped_emotion_map=relaxed=Happy,...` overrides single classes.
Malformed input raises InputError naming file:line.
"""

import csv
import io

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf.data.pair import Pair
from ecm_tf.errors import InputError, at

# CPED label -> ECM id. Reasons per class: docs/data.md ("CPED: the 13 -> 6 mapping").
EMOTION_MAP = {
    "neutral": emotions.OTHER,
    "anger": emotions.ANGRY,
    "disgust": emotions.DISGUST,
    "happy": emotions.HAPPY,
    "sadness": emotions.SAD,
    "depress": emotions.SAD,
    "grateful": emotions.LIKE,
    "positive-other": emotions.LIKE,
    "relaxed": emotions.OTHER,
    "worried": emotions.OTHER,
    "fear": emotions.OTHER,
    "astonished": emotions.OTHER,
    "negative-other": emotions.OTHER,
}
CPED_EMOTIONS = tuple(EMOTION_MAP)
REQUIRED_COLUMNS = ("Dialogue_ID", "Speaker", "Emotion", "Utterance")


def emotion_map(overrides=""):
    """EMOTION_MAP with `label=Emotion,...` overrides (e.g. "relaxed=Other,positive-other=Other")."""
    mapping = dict(EMOTION_MAP)
    for item in [s.strip() for s in str(overrides or "").split(",") if s.strip()]:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in mapping:
            raise InputError(f"--cped_emotion_map: expected LABEL=EMOTION with LABEL one of "
                             f"{', '.join(CPED_EMOTIONS)}, got {item!r}")
        mapping[key] = emotions.emotion_id(value, f"--cped_emotion_map: {key}")
    return mapping


def read_rows(path, mapping=None):
    """[(where, dialogue_id, speaker, raw_emotion, emotion_id, text)] of a CPED CSV, in file order."""
    mapping = emotion_map() if mapping is None else mapping
    text = io_utils.read_text(path)  # BOM dropped, InputError on invalid UTF-8
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{at(path, line=1)}: empty file; expected a CPED CSV header") from None
    except csv.Error as e:
        raise InputError(f"{at(path, line=1)}: malformed CSV ({e})") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InputError(f"{at(path, line=1)}: not a CPED header: missing column(s) {', '.join(missing)} "
                         f"(need {', '.join(REQUIRED_COLUMNS)})")
    col = {c: header.index(c) for c in REQUIRED_COLUMNS}
    rows, line = [], 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise InputError(f"{at(path, line=reader.line_num)}: malformed CSV ({e})") from None
        line = reader.line_num
        where = at(path, line=line)
        if not fields or not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise InputError(f"{where}: expected {len(header)} columns as in the header, got {len(fields)}")
        dialogue, speaker = fields[col["Dialogue_ID"]].strip(), fields[col["Speaker"]].strip()
        raw, utterance = fields[col["Emotion"]].strip().lower(), fields[col["Utterance"]].strip()
        if not dialogue:
            raise InputError(f"{where}: empty Dialogue_ID")
        if raw not in mapping:
            raise InputError(f"{where}: unknown CPED emotion {fields[col['Emotion']]!r}; "
                             f"expected one of {', '.join(CPED_EMOTIONS)}")
        if not utterance:
            raise InputError(f"{where}: empty Utterance")
        rows.append((where, dialogue, speaker, raw, mapping[raw], utterance))
    if not rows:
        raise InputError(f"{path}: no utterances after the header")
    return rows


def read_cped_pairs(path, speaker_change=False, mapping=None):
    """Adjacent utterance pairs within each dialogue (only speaker changes when speaker_change);
    `mapping` from emotion_map(--cped_emotion_map), default the documented 13 -> 6 one."""
    rows = read_rows(path, mapping)
    pairs, seen, previous = [], set(), None
    for row in rows:
        where, dialogue, speaker, _, eid, utterance = row
        if previous is None or previous[1] != dialogue:
            if dialogue in seen:
                raise InputError(f"{where}: dialogue {dialogue} continues after other dialogues; "
                                 "the rows of a dialogue must be consecutive")
            seen.add(dialogue)
        elif not speaker_change or previous[2] != speaker:
            pairs.append(Pair(previous[5], utterance, eid, previous[4], where))
        previous = row
    if not pairs:
        raise InputError(f"{path}: no adjacent utterance pairs"
                         + (" with a change of speaker" if speaker_change else ""))
    return pairs


def read_cped_utterances(path, mapping=None):
    """[(text, emotion_id)] of every utterance (classifier data)."""
    return [(r[5], r[4]) for r in read_rows(path, mapping)]


def raw_labels(path):
    """[(text, CPED label)] of every utterance, the 13 labels unmapped (for the mapping analysis)."""
    return [(r[5], r[3]) for r in read_rows(path, mapping=dict(EMOTION_MAP))]
