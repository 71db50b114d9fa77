"""replication/judge_select.py: the per-class bias tuned on dev, and its cross-fitted dev score."""

import numpy as np

from ecm_tf.classifier import metrics as metrics_lib
from replication import judge_select


def _scores():
    """200 examples; the model under-predicts Sad: for gold Sad its Sad score trails Other by 0.5."""
    rng = np.random.RandomState(0)
    gold = rng.randint(0, 6, size=200)
    scores = np.full((200, 6), -3.0)
    scores[np.arange(200), gold] = 0.0
    sad = gold == 2
    scores[sad, 0] = 0.5
    scores += rng.uniform(0, 0.1, size=scores.shape)
    return gold, scores


def test_tuned_bias_recovers_an_under_predicted_class():
    gold, scores = _scores()
    before = metrics_lib.evaluate(gold, scores.argmax(-1))
    assert before["f1"]["Sad"] == 0.0
    bias = judge_select.tune_bias(gold, scores)
    assert bias[0] == 0.0 and 0.5 < bias[2] <= 2.0
    after = metrics_lib.evaluate(gold, (scores + bias).argmax(-1))
    assert after["f1"]["Sad"] == 1.0 and after["macro_f1"] > before["macro_f1"]


def test_crossfit_scores_each_half_with_the_other_halfs_bias():
    gold, scores = _scores()
    idx = np.arange(200)
    assert judge_select.crossfit(gold, scores, (idx[:100], idx[100:])) == 1.0
    # a half without any Sad example tunes no Sad bias, so the other half's Sad stays unrecognised
    no_sad = np.flatnonzero(gold != 2)
    sad = np.flatnonzero(gold == 2)
    f = judge_select.crossfit(gold, scores, (no_sad, sad))
    assert f < 1.0
