"""Emotion interaction statistics (ECM Figure 5) on a hand-made annotated corpus."""

import csv
import json

import numpy as np
import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf import emotions as E
from ecm_tf.classifier import interaction
from ecm_tf.errors import InputError

# (post emotion, response emotion, how many pairs)
PAIRS = [(E.OTHER, E.OTHER, 2), (E.OTHER, E.HAPPY, 1), (E.HAPPY, E.HAPPY, 1), (E.SAD, E.ANGRY, 3)]


def _corpus(path):
    records = [[[f"帖子 {k}", pe], [f"回复 {k}", re]] for k, (pe, re, n) in enumerate(PAIRS) for _ in range(n)]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


def test_table_against_hand_computed_probabilities(tmp_path):
    corpus = _corpus(tmp_path / "ann.json")
    prefix = tmp_path / "out" / "fig5"
    cfg = ecm_flags.defaults().replace(input=str(corpus), input_format="pairs", output=str(prefix))
    interaction.run(cfg)
    with open(str(prefix) + ".csv", encoding="utf-8") as f:
        rows = {r["post_emotion"]: r for r in csv.DictReader(f)}
    assert list(rows) == list(E.NAMES)
    assert rows["Other"]["pairs"] == "3"
    assert float(rows["Other"]["P(Other)"]) == pytest.approx(2 / 3, abs=1e-4)
    assert float(rows["Other"]["P(Happy)"]) == pytest.approx(1 / 3, abs=1e-4)
    assert rows["Other"]["n(Other)"] == "2" and rows["Other"]["n(Happy)"] == "1"
    assert float(rows["Happy"]["P(Happy)"]) == 1.0
    assert float(rows["Sad"]["P(Angry)"]) == 1.0 and rows["Sad"]["n(Angry)"] == "3"
    assert rows["Like"]["pairs"] == "0" and float(rows["Like"]["P(Like)"]) == 0.0
    with open(str(prefix) + ".png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fig5.csv", "fig5.png"]  # no temp files left


def test_conditional_rows_sum_to_one():
    counts = np.array([[1, 3, 0, 0, 0, 0]] + [[0] * 6] * 5)
    probs = interaction.conditional(counts)
    np.testing.assert_allclose(probs[0, :2], [0.25, 0.75])
    np.testing.assert_allclose(probs[1:], 0.0)


def test_unlabelled_corpus_is_refused(tmp_path):
    path = tmp_path / "raw.tsv"
    path.write_text("你好\t你好啊\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(input=str(path), input_format="tsv", output=str(tmp_path / "x"))
    with pytest.raises(InputError, match="run --mode=annotate first"):
        interaction.run(cfg)
