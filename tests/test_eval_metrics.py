"""Automatic metrics against hand-computed values."""

import math

import pytest

from ecm_tf import metrics


def test_distinct_n_by_hand():
    responses = [["我", "也", "喜欢"], ["我", "也", "是"], ["好"]]
    # unigrams: 我 也 喜欢 我 也 是 好 -> 7 total, 5 distinct
    assert metrics.distinct_n(responses, 1) == pytest.approx(5 / 7)
    # bigrams: 我也 也喜欢 我也 也是 -> 4 total, 3 distinct ("好" has none)
    assert metrics.distinct_n(responses, 2) == pytest.approx(3 / 4)
    assert metrics.distinct_n([["a"]], 2) == 0.0
    assert metrics.distinct_n([], 1) == 0.0


def test_perplexity_per_response_and_per_token():
    acc = metrics.PerplexityAccumulator()
    acc.add(nll_sum=2.0, num_tokens=1)  # one token with NLL 2
    acc.add(nll_sum=3.0, num_tokens=3)  # three tokens with NLL 1
    assert acc.perplexity() == pytest.approx(math.exp((2.0 + 1.0) / 2))  # the original: responses weigh the same
    assert acc.perplexity_token() == pytest.approx(math.exp(5.0 / 4))  # tokens weigh the same
    assert math.isnan(metrics.PerplexityAccumulator().perplexity())


def test_emotion_accuracy():
    assert metrics.emotion_accuracy([1, 2, 3, 4], [1, 2, 0, 0]) == 0.5
    with pytest.raises(ValueError):
        metrics.emotion_accuracy([1], [1, 2])
