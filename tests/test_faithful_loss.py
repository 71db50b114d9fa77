"""Faithfulness to the original release: its perplexity and loss normalisation; plateau decay on the cross-entropy."""

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf import metrics
from ecm_tf.errors import InputError
from ecm_tf.models.ecm.loss import ecm_loss
from ecm_tf.models.ecm.settings import EcmSettings
from ecm_tf.models.ecm import trainer as train_lib
from test_training_run import tiny

# The audit's toy case: response A has 2 tokens at 1.0 nats, response B 10 tokens at 3.0 nats.
RESPONSE_PPL = math.exp((1.0 + 3.0) / 2)  # 7.389: each response's mean, then the mean of the two
TOKEN_PPL = math.exp((2 * 1.0 + 10 * 3.0) / 12)  # 14.392: one mean over the 12 tokens


def toy_parts(**kw):
    lengths = np.array([2, 10], np.int32)
    # A: every position at 1.0 nats (only its first 2 count); B: 10 tokens at 3.0 nats.
    tlp = np.array([[-1.0] * 10, [-3.0] * 10], np.float32)
    # Selector: A's tokens are emotion words (q = 1) with alpha = sigmoid(0) = 0.5, B's are not.
    q = np.zeros([2, 10], np.float32)
    q[0] = 1.0
    outputs = {"target_log_probs": tf.constant(tlp), "selector_logits": tf.zeros([2, 10]), "imemory": None}
    batch = {"response": np.zeros([2, 10], np.int32), "response_len": lengths, "emotion_word": q}
    cfg = ecm_flags.defaults().replace(**kw)
    return {k: float(v.numpy()) if v.shape.rank == 0 else v.numpy() for k, v in ecm_loss(outputs, batch, cfg).items()}


def test_toy_perplexities_by_hand():
    assert RESPONSE_PPL == pytest.approx(7.39, abs=5e-3) and TOKEN_PPL == pytest.approx(14.39, abs=5e-3)
    acc = metrics.PerplexityAccumulator()
    acc.add(nll_sum=2 * 1.0, num_tokens=2)
    acc.add(nll_sum=10 * 3.0, num_tokens=10)
    acc.add(nll_sum=0.0, num_tokens=0)  # a response without tokens counts in neither
    assert acc.perplexity() == pytest.approx(RESPONSE_PPL)
    assert acc.perplexity_token() == pytest.approx(TOKEN_PPL)
    assert math.isnan(metrics.PerplexityAccumulator().perplexity())
    assert math.isnan(metrics.PerplexityAccumulator().perplexity_token())


def test_loss_default_is_per_response_then_batch():
    assert ecm_flags.defaults().loss_average == "response"
    parts = toy_parts()
    assert parts["nll"] == pytest.approx(2.0, rel=1e-6) and parts["ppl"] == pytest.approx(RESPONSE_PPL, rel=1e-6)
    assert parts["nll_response"] == pytest.approx(2.0, rel=1e-6)
    assert parts["nll_token"] == pytest.approx(32 / 12, rel=1e-6)
    # Selector (paper form -q log alpha): A's 2 tokens each -log 0.5, B's 0 -> (log 2 + 0) / 2 per response.
    assert parts["selector"] == pytest.approx(math.log(2) / 2, rel=1e-5)
    np.testing.assert_allclose(parts["example_nll"], [2.0, 30.0], rtol=1e-6)
    np.testing.assert_array_equal(parts["example_tokens"], [2, 10])


def test_loss_token_average_behind_the_flag():
    parts = toy_parts(loss_average="token")
    assert parts["nll"] == pytest.approx(32 / 12, rel=1e-6) and parts["ppl"] == pytest.approx(TOKEN_PPL, rel=1e-5)
    assert parts["nll_response"] == pytest.approx(2.0, rel=1e-6)
    assert parts["selector"] == pytest.approx(2 * math.log(2) / 12, rel=1e-5)  # 2 tokens of 12
    with pytest.raises(InputError, match="--loss_average=sum: expected one of response, token"):
        EcmSettings(loss_average="sum")  # the command line's choices, checked once (ecm_tf/schema.py)


def test_loss_average_is_saved_in_config_json(tmp_path):
    train_lib.train(tiny(tmp_path, max_steps=1, loss_average="token"))
    assert json.loads((tmp_path / "config.json").read_text())["loss_average"] == "token"


def test_plateau_decay_follows_the_cross_entropy_not_the_total_loss(tmp_path, monkeypatch):
    """Total loss falls every step while the cross-entropy rises: the original decays (it watches ppx)."""
    real_loss = train_lib.ecm_loss
    calls = tf.Variable(0.0)  # counts the traced step's calls (a Python counter would be traced once)

    def rising_nll(outputs, batch, cfg):
        parts = dict(real_loss(outputs, batch, cfg))
        k = calls.assign_add(1.0) - 1.0
        parts["nll"] = 1.0 + k  # 1, 2, 3, ...: rising
        parts["loss"] = 0.0 * parts["loss"] + 100.0 - 10.0 * k  # 100, 90, 80, ...: falling
        return parts

    monkeypatch.setattr(train_lib, "ecm_loss", rising_nll)
    trainer = train_lib.train(tiny(tmp_path, max_steps=5, lr_decay_window=1, lr_decay=0.5, learning_rate=0.5))
    assert float(calls.numpy()) == 5.0
    # Windows of one step: nll 1, 2, 3 fill the history; 4 > max(1, 2, 3) and 5 > max(2, 3, 4) decay twice.
    assert float(trainer.lr.numpy()) == pytest.approx(0.5 * 0.5 * 0.5)
    np.testing.assert_allclose(trainer.plateau.previous.numpy(), [3.0, 4.0, 5.0])
