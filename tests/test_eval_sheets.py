"""Manual-evaluation kit: blind sheets, key, scoring and Fleiss' kappa on hand-computed cases."""

import csv
import json

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.evaluation import score as score_lib
from ecm_tf.evaluation import sheets as sheets_lib

EMOTIONS = ("Like", "Sad", "Disgust", "Angry", "Happy")


def test_fleiss_kappa_classic_example():
    # Fleiss (1971) / Wikipedia worked example: 10 subjects, 14 raters, 5 categories.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    # P_bar = 0.378, P_e = 0.2128 -> kappa = 0.210
    assert score_lib.fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-3)
    assert score_lib.fleiss_kappa([[2, 0], [0, 2]]) == 1.0


def write_decode(path, system, posts):
    with open(path, "w", encoding="utf-8") as f:
        for p in posts:
            for e in EMOTIONS:
                f.write(json.dumps({"post": p, "emotion": e, "response": f"{system} {e} 回复", "score": -1.0},
                                   ensure_ascii=False) + "\n")


@pytest.fixture
def sheet(tmp_path):
    posts = ["今天 天气 真 好", "我 的 猫 丢 了", "这 部 电影 太 烂"]
    write_decode(tmp_path / "ecm.jsonl", "ecm", posts)
    write_decode(tmp_path / "seq2seq.jsonl", "s2s", posts[:2] + ["只 在 这里"])
    cfg = ecm_flags.defaults().replace(systems=[str(tmp_path / "ecm.jsonl"), str(tmp_path / "seq2seq.jsonl")],
                                    output=str(tmp_path / "sheet.csv"), num_posts=2, seed=3)
    sheets_lib.run(cfg)
    return tmp_path


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def fill(src, dst, fn, column):
    rows = read_rows(src)
    header = rows[0]
    for i, row in enumerate(rows[1:]):
        row[header.index(column[0])], *rest = fn(i, row)
        if rest:
            row[header.index(column[1])] = rest[0]
    with open(dst, "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


def test_sheet_is_blind_and_key_maps_slots(sheet):
    rows = read_rows(sheet / "sheet.csv")
    assert rows[0] == sheets_lib.CONTENT_COLUMNS
    assert len(rows) - 1 == 2 * 5 * 2  # 2 posts x 5 emotions x 2 systems (posts common to both only)
    key = json.loads((sheet / "sheet.key.json").read_text(encoding="utf-8"))
    assert key["systems"] == ["ecm", "seq2seq"]
    for item, slot, post, emotion, response, content, match in rows[1:]:
        system = key["items"][item][slot]
        assert response.startswith("ecm" if system == "ecm" else "s2s")
        assert emotion in item and "ecm" not in item and content == match == ""
        assert post != "只 在 这里"
    orders = {tuple(key["items"][i][s] for s in "AB") for i in key["items"]}
    assert len(orders) == 2  # the system order is shuffled per item
    pref = read_rows(sheet / "sheet.preference.csv")
    assert pref[0] == sheets_lib.PREFERENCE_COLUMNS and len(pref) == 11  # two systems: one pair A-B per item
    assert {row[3] for row in pref[1:]} == {"A-B"}


def test_scores_and_kappa_by_hand(sheet, capsys):
    key = json.loads((sheet / "sheet.key.json").read_text(encoding="utf-8"))
    # Annotator 1: content 2 everywhere; annotator 2: 2 on the first 10 rows, 1 on the others.
    # Emotion: both give 1 on the first 10 rows and 0 on the others.
    fill(sheet / "sheet.csv", sheet / "a1.csv", lambda i, r: ("2", "1" if i < 10 else "0"),
         ("content", "emotion_match"))
    fill(sheet / "sheet.csv", sheet / "a2.csv", lambda i, r: ("2" if i < 10 else "1", "1" if i < 10 else "0"),
         ("content", "emotion_match"))
    # Preference: annotator 1 always picks the ECM slot, annotator 2 says tie.
    fill(sheet / "sheet.preference.csv", sheet / "p1.csv",
         lambda i, r: ([s for s, name in key["items"][r[0]].items() if name == "ecm"][0],), ("preferred",))
    fill(sheet / "sheet.preference.csv", sheet / "p2.csv", lambda i, r: ("tie",), ("preferred",))
    cfg = ecm_flags.defaults().replace(input=str(sheet / "sheet.key.json"),
                                    sheets=[str(sheet / n) for n in ("a1.csv", "a2.csv", "p1.csv", "p2.csv")])
    score_lib.run(cfg)
    out = capsys.readouterr().out
    # Content: 20 subjects, 2 raters; 10 agree on 2, 10 split 2/1: P_bar = 0.5,
    # p = (0.75, 0.25) -> P_e = 0.625, kappa = (0.5 - 0.625) / 0.375 = -1/3. Emotion: full agreement, 1.
    assert "Fleiss' kappa: content -0.333, emotion 1.000" in out
    # Table 7: 10 items x 2 annotators; annotator 1 prefers ECM, annotator 2 says tie.
    assert "| ecm vs seq2seq | " + " | ".join(["50.0% / 50.0% / 0.0%"] * 6) + " |" in out
    # 40 judgments: content 2 in 30 (20 with match 1, 10 with match 0), content 1 in 10 (match 0).
    contents = [read_rows(sheet / n)[1:] for n in ("a1.csv", "a2.csv")]
    per_system = {"ecm": [], "seq2seq": []}
    for rows in contents:
        for r in rows:
            per_system[key["items"][r[0]][r[1]]].append(f"{r[5]}-{r[6]}")
    ecm = per_system["ecm"]
    expected = " | ".join(f"{100 * ecm.count(c) / len(ecm):.1f}%" for c in score_lib.CLASSES)
    assert f"| ecm | {expected} |" in out


def test_malformed_cell_names_file_and_line(sheet):
    fill(sheet / "sheet.csv", sheet / "bad.csv", lambda i, r: ("3" if i == 4 else "2", "1"),
         ("content", "emotion_match"))
    cfg = ecm_flags.defaults().replace(input=str(sheet / "sheet.key.json"), sheets=[str(sheet / "bad.csv")])
    with pytest.raises(InputError, match=r"bad\.csv:6: content must be one of 0/1/2, got '3'"):
        score_lib.run(cfg)
    fill(sheet / "sheet.preference.csv", sheet / "badp.csv", lambda i, r: ("Z",), ("preferred",))
    cfg = cfg.replace(sheets=[str(sheet / "badp.csv")])
    with pytest.raises(InputError, match=r"badp\.csv:2: preferred must be"):
        score_lib.run(cfg)
