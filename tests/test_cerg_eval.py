"""CECG-style scoring, safe-response detection and the annotation sheet."""

import csv

import pytest

from ecm_tf.evaluation import cecg_eval
from ecm_tf.errors import InputError


def test_score_formula_matches_the_paper():
    labels = [1] * 69 + [2] * 23 + [0] * 108  # CERG paper, Like without retrieval
    assert cecg_eval.cecg_score(labels) == pytest.approx((69 + 2 * 23) / 200) == pytest.approx(0.575)
    assert cecg_eval.cecg_score([]) == 0.0
    with pytest.raises(ValueError):
        cecg_eval.cecg_score([3])


@pytest.mark.parametrize("text, kind", [
    ("[哈哈][哈哈]", "emoji_only"), ("！！", "emoji_only"), ("怎么了？", "whats_going_on"),
    ("你怎么了啊", "whats_going_on"), ("这是怎么回事", "whats_going_on"), ("我也是", "me_too"),
    ("我也是哈哈哈", "me_too"), ("我也想去", "me_too"), ("我也不知道该怎么说才好", None),
    ("今天天气真好", None), ("怎么了我明天要去北京出差", None)])
def test_safe_kind(text, kind):
    assert cecg_eval.safe_kind(text) == kind


class _FakeClassifier:
    def predict(self, texts):
        return [5 if "开心" in t else 2 for t in texts]


def test_proxy_labels_and_summary():
    results = [{"post": "p", "emotion": "Happy", "response": "好开心"},
               {"post": "p", "emotion": "Happy", "response": "好难过"},
               {"post": "p", "emotion": "Happy", "response": "我也是"},
               {"post": "p", "emotion": "Sad", "response": "好难过"}]
    labels, predicted = cecg_eval.proxy_labels(results, _FakeClassifier())
    assert labels == [2, 1, 0, 2] and predicted == [5, 2, 2, 2]
    summary = cecg_eval.summarize(results, _FakeClassifier())
    assert summary["Happy"] == {"n": 3, "safe_share": pytest.approx(1 / 3, abs=1e-4),
                                "proxy_score": pytest.approx(1.0), "emotion_accuracy": pytest.approx(1 / 3, abs=1e-4)}
    assert summary["Sad"]["proxy_score"] == 2.0
    # Overall: labels 2, 1, 0, 2 -> (1 + 2 * 2) / 4; predicted matches the asked emotion twice.
    assert summary["Overall"] == {"n": 4, "safe_share": 0.25, "proxy_score": 1.25, "emotion_accuracy": 0.5}
    assert cecg_eval.summarize(results, _FakeClassifier(), proxy=([0, 0, 0, 0], [0, 0, 0, 0]))["Overall"][
        "proxy_score"] == 0.0  # precomputed labels are used as given


def test_sheet_round_trip(tmp_path):
    path = tmp_path / "sheet.csv"
    results = [{"post": "p", "emotion": "Like", "response": r} for r in ("我也是", "好喜欢", "还行")]
    cecg_eval.write_sheet(results, path, _FakeClassifier())
    rows = list(csv.DictReader(open(path, encoding="utf-8")))
    assert [r["safe"] for r in rows] == ["me_too", "", ""] and rows[0]["label"] == "0"
    rows[1]["label"], rows[2]["label"] = "2", "1"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, cecg_eval.SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    assert cecg_eval.score_sheet(path) == {"Like": pytest.approx(1.0)}
    rows[2]["label"] = "x"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, cecg_eval.SHEET_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(InputError, match=r"sheet.csv:4: label must be 0, 1 or 2"):
        cecg_eval.score_sheet(path)
