"""--input_format=cped: adjacent pairs, speaker-change option, the 13 -> 6 mapping, malformed CSVs."""

import collections

import pytest

from conftest import shared_path
from ecm_tf import emotions
from ecm_tf.data import cped, readers
from ecm_tf.errors import InputError

HEADER = "TV_ID,Dialogue_ID,Utterance_ID,Speaker,Sentiment,Emotion,DA,Utterance"
ROWS = [
    "1,1_000,1_000_000,甲,neutral,neutral,question,你去哪儿",
    "1,1_000,1_000_001,乙,negative,anger,answer,别管我",
    "1,1_000,1_000_002,乙,negative,sadness,statement,我好难过",
    "1,1_001,1_001_000,丙,positive,happy,statement,太好了",
    "1,1_001,1_001_001,丁,positive,relaxed,statement,\"是啊, 不错\"",
]


def _csv(tmp_path, rows=ROWS, header=HEADER, bom=True, name="d.csv", newline="\r\n"):
    path = tmp_path / name
    text = newline.join([header] + list(rows)) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def test_adjacent_pairs_within_dialogues(tmp_path):
    path = _csv(tmp_path)
    assert readers.detect_format(path) == "cped"
    pairs = readers.read_corpus(path, "cped")
    # 3 + 2 utterances -> 2 + 1 pairs; never across the dialogue boundary.
    assert [(p.post, p.response) for p in pairs] == [("你去哪儿", "别管我"), ("别管我", "我好难过"), ("太好了", "是啊, 不错")]
    assert [(p.post_emotion, p.response_emotion) for p in pairs] == [
        (emotions.OTHER, emotions.ANGRY), (emotions.ANGRY, emotions.SAD), (emotions.HAPPY, emotions.OTHER)]
    assert pairs[0].where == f"{path}:3"


def test_speaker_change_only(tmp_path):
    pairs = cped.read_cped_pairs(_csv(tmp_path), speaker_change=True)
    assert [(p.post, p.response) for p in pairs] == [("你去哪儿", "别管我"), ("太好了", "是啊, 不错")]


def test_no_bom_and_lf_line_ends(tmp_path):
    pairs = cped.read_cped_pairs(_csv(tmp_path, bom=False, newline="\n"))
    assert len(pairs) == 3


def test_mapping_covers_13_classes_and_overrides():
    assert len(cped.EMOTION_MAP) == 13
    assert set(cped.EMOTION_MAP.values()) == set(range(emotions.NUM_EMOTIONS))
    m = cped.emotion_map("relaxed=Happy, positive-other=0")
    assert m["relaxed"] == emotions.HAPPY and m["positive-other"] == emotions.OTHER and m["anger"] == emotions.ANGRY
    with pytest.raises(InputError, match="--cped_emotion_map: expected LABEL=EMOTION"):
        cped.emotion_map("joy=Happy")
    with pytest.raises(InputError, match="unknown emotion 'Joy'"):
        cped.emotion_map("relaxed=Joy")


def test_utterances_for_classifier(tmp_path):
    got = cped.read_cped_utterances(_csv(tmp_path))
    assert got[1] == ("别管我", emotions.ANGRY) and len(got) == 5


@pytest.mark.parametrize("header,rows,message", [
    ("TV_ID,Dialogue_ID,Speaker,Utterance", ROWS[:1], r"d.csv:1: not a CPED header: missing column\(s\) Emotion"),
    (HEADER, ROWS[:1] + ["1,1_000,1_000_001,乙,negative,joy,answer,别管我"], r"d.csv:3: unknown CPED emotion 'joy'"),
    (HEADER, ROWS[:1] + ["1,1_000,1_000_001,乙,negative,anger"], r"d.csv:3: expected 8 columns as in the header, got 6"),
    (HEADER, ROWS[:1] + ["1,1_000,1_000_001,乙,negative,anger,answer,  "], r"d.csv:3: empty Utterance"),
    (HEADER, [], r"d.csv: no utterances after the header"),
    (HEADER, ROWS[:1], r"d.csv: no adjacent utterance pairs"),
    (HEADER, ROWS[:1] + ROWS[3:4] + ["1,1_000,1_000_001,乙,negative,anger,answer,别管我"],
     r"d.csv:4: dialogue 1_000 continues after other dialogues"),
])
def test_malformed_csv_names_file_and_line(tmp_path, header, rows, message):
    with pytest.raises(InputError, match=message):
        readers.read_corpus(_csv(tmp_path, rows=rows, header=header), "cped")


def test_bom_inside_header_and_bad_utf8(tmp_path):
    # A BOM written twice (a file re-saved by a tool that adds one): still the first column only.
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + ("\n".join([HEADER] + ROWS) + "\n").encode("utf-8"))
    assert len(cped.read_cped_pairs(str(path))) == 3
    path.write_bytes(("\n".join([HEADER] + ROWS[:2]) + "\n").encode("utf-8") + b"1,1_000,x,\xff\xfe,a\n")
    with pytest.raises(InputError, match=r"d.csv:4: invalid UTF-8"):
        cped.read_cped_pairs(str(path))
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(InputError, match=r"e.csv:1: empty file"):
        cped.read_cped_pairs(str(tmp_path / "e.csv"))


def test_real_cped_files():
    valid = str(shared_path("cped", "valid_split.csv"))
    test = str(shared_path("cped", "test_split.csv"))
    counts = {sc: sum(len(cped.read_cped_pairs(p, speaker_change=sc)) for p in (valid, test)) for sc in (False, True)}
    assert counts == {False: 34826, True: 11460}  # ../shared/data/README.md
    utterances = cped.raw_labels(test)
    assert len(utterances) == 27438
    raw = collections.Counter(label for _, label in utterances)
    assert (raw["anger"], raw["depress"], raw["happy"], raw["sadness"], raw["disgust"]) == (3031, 2792, 2604, 530, 435)
    first = readers.read_corpus(test, "auto")[0]
    assert first.where == f"{test}:3" and (first.post, first.response) == ("好了没事了", "谢谢你哦")


def test_reader_options_come_from_the_config_not_the_parsed_flags(tmp_path):
    from ecm_tf import flags as ecm_flags
    from ecm_tf.data import readers

    path = _csv(tmp_path)
    every = readers.read_corpus(path, "cped")
    changes = readers.read_corpus(path, "cped", **readers.options(ecm_flags.defaults().replace(cped_speaker_change=True)))
    assert len(changes) < len(every) and changes == cped.read_cped_pairs(path, speaker_change=True)
