"""CECG scoring: hard voting over annotators' sheets and the per-emotion label / safe counts."""

import csv

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.evaluation import cecg_eval
from ecm_tf.evaluation import cecg_score
from ecm_tf.errors import InputError

RESPONSES = [("p1", "Like", "好喜欢"), ("p2", "Like", "还行吧"), ("p3", "Like", "我也是"),
             ("p1", "Sad", "好难过"), ("p2", "Sad", "[泪][泪]"), ("p3", "Sad", "怎么了")]
# Labels of three annotators (columns = RESPONSES). Safe responses (p3 Like, p2 Sad, p3 Sad) count 0.
SHEETS = {"a1": [2, 1, 2, 2, 1, 1], "a2": [2, 0, 2, 0, 1, 0], "a3": [1, 2, 2, 1, 2, 1]}


@pytest.mark.parametrize("labels, want", [
    ([2, 2, 1], 2), ([0, 1, 2], 1),  # majority; no majority: the median
    ([1, 2], 1), ([0, 2], 0), ([2, 2], 2),  # two annotators: agreement, else the lower middle label
    ([0, 0, 2, 2], 0), ([1, 1, 1, 2], 1), ([2], 2)])
def test_vote_by_hand(labels, want):
    assert cecg_eval.vote(labels) == want


def write(path, labels):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, cecg_eval.SHEET_COLUMNS)
        w.writeheader()
        for (post, emotion, response), label in zip(RESPONSES, labels):
            w.writerow({"post": post, "emotion": emotion, "response": response, "label": label})


def test_cecg_score_prints_the_vote_row_and_counts(tmp_path, capsys):
    paths = []
    for name, labels in SHEETS.items():
        write(tmp_path / f"{name}.csv", labels)
        paths.append(str(tmp_path / f"{name}.csv"))
    cecg_score.run(ecm_flags.defaults().replace(sheets=paths))
    out = capsys.readouterr().out
    # Votes: 好喜欢 2,2,1 -> 2; 还行吧 1,0,2 -> median 1; 我也是 safe -> 0 | 好难过 2,0,1 -> 1; the two safe -> 0.
    # Like (1 + 2 * 1) / 3 = 1.000; Sad (1 + 0) / 3 = 0.333; sum 1.333.
    assert "| vote | 1.000 | 0.333 | - | - | - | 1.333 |" in out
    # Per sheet: a1 Like (2 + 1 + 0) -> (1 + 2) / 3 = 1.0, Sad (2 + 0 + 0) -> 2 / 3.
    assert f"| {paths[0]} | 1.000 | 0.667 | - | - | - | 1.667 |" in out
    assert "| mean | " in out and "hard vote of 3 sheets" in out
    assert "| Like | 3 | 1 | 1 | 1 | 1.000 | 0 | 0 | 1 |" in out
    assert "| Sad | 3 | 2 | 1 | 0 | 0.333 | 1 | 1 | 0 |" in out


def test_sheets_of_other_responses_get_no_vote(tmp_path, capsys):
    write(tmp_path / "a.csv", SHEETS["a1"])
    write(tmp_path / "b.csv", SHEETS["a2"])
    rows = list(csv.DictReader(open(tmp_path / "b.csv", encoding="utf-8")))
    rows[3]["response"] = "别的回复"
    with open(tmp_path / "b.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, cecg_eval.SHEET_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    sheets = [cecg_eval.read_sheet(str(tmp_path / n)) for n in ("a.csv", "b.csv")]
    with pytest.raises(InputError, match=r"b\.csv:5: post/emotion/response differ from .*a\.csv:5"):
        cecg_eval.vote_labels(sheets)
    cecg_score.run(ecm_flags.defaults().replace(sheets=[str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]))
    captured = capsys.readouterr()
    assert "| vote |" not in captured.out and "| mean |" in captured.out and "no vote" in captured.err
    assert captured.out.count("Label and safe-response counts") == 2
