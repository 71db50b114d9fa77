"""CERG/P&E2R never return an empty response; P&E2R is LSTM-based by default."""

import json

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import models
from ecm_tf.models.cerg import trainer as cerg_trainer
from ecm_tf.models.pe2r.pe2r_model import Pe2rModel
from ecm_tf.models.pe2r.settings import Pe2rSettings
from ecm_tf.models.cerg.predictor import CergPredictor
from ecm_tf.errors import InputError
from test_cerg_train import PAIRS, small_cfg

CHAR_PAIRS = [(list(p), list(r), e) for p, r, e in PAIRS]


class EosFirst:
    """A stand-in model whose every step puts most mass on _EOS: the empty response would win."""

    start_id = char_vocab.GO_ID

    def __init__(self, vocab_size):
        logits = np.zeros([vocab_size], np.float32)
        logits[char_vocab.EOS_ID] = 5.0
        logits[char_vocab.FIRST_CHAR_ID] = 1.0
        self.log_probs = tf.nn.log_softmax(tf.constant(logits))  # [V]

    def initial_state(self, emotion, post):
        return {"h": tf.zeros([tf.shape(post)[0], 1])}

    def step(self, ids, state):
        return tf.tile(self.log_probs[None], [tf.shape(ids)[0], 1]), state


def test_predictor_never_returns_an_empty_response():
    vocab = char_vocab.build((c for p, r, _ in CHAR_PAIRS for c in (p, r)), 1000)
    settings = {"model": "pe2r", "cerg_max_chars": 8}
    predictor = CergPredictor("stand-in", settings, vocab, EosFirst(len(vocab)), None, 2, 2, 1.0)
    out = predictor.respond_detailed(["今天天气真好"], ["Happy"], use_retrieval=False)[0]
    first = vocab.chars([char_vocab.FIRST_CHAR_ID])[0]
    # Without min_len the best candidate is "" (log p(EOS) alone); with it, one character then EOS.
    assert out["response"] == first
    assert all(c["response"] and c["length"] >= 2 for c in out["candidates"])


def test_smoke_cerg_decodes_no_empty_response(tmp_path):
    cfg = small_cfg(tmp_path, max_steps=20)
    cerg_trainer.train(cfg, CHAR_PAIRS, quiet=True)
    predictor = CergPredictor.load(str(tmp_path))
    posts = [p for p, _, _ in PAIRS] * 5
    emotions = [e for e in ("Like", "Sad", "Disgust", "Angry", "Happy") for _ in PAIRS]
    for use_retrieval in (True, False):
        results = predictor.respond_detailed(posts, emotions, use_retrieval=use_retrieval)
        assert all(r["response"] for r in results)
        assert all(c["length"] >= 2 for r in results for c in r["candidates"])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_pe2r_step_equals_teacher_forcing(cell):
    model = Pe2rModel(60, 8, 12, 4, 6, cell=cell)
    rng = np.random.default_rng(0)
    batch = {"emotion": np.array([1, 4], np.int32), "post": rng.integers(10, 60, [2, 6]).astype(np.int32),
             "response": rng.integers(10, 60, [2, 6]).astype(np.int32)}
    batch["post"][1, 4:] = char_vocab.PAD_ID
    full = tf.nn.log_softmax(model(batch)).numpy()  # [B, R + 1, V]
    state = model.initial_state(batch["emotion"], batch["post"])
    ids = tf.fill([2], model.start_id)
    for t in range(7):
        log_probs, state = model.step(ids, state)
        np.testing.assert_allclose(log_probs.numpy(), full[:, t], atol=1e-5)
        if t < 6:
            ids = batch["response"][:, t]
    gates = 4 if cell == "lstm" else 3  # LSTM: input, forget, cell, output; GRU: update, reset, candidate
    recurrent = [v for v in model.weights if v.path.endswith("recurrent_kernel")]
    assert len(recurrent) == 3 and all(v.shape == (12, gates * 12) for v in recurrent)


def test_pe2r_cell_default_saved_and_guarded(tmp_path):
    assert ecm_flags.defaults().pe2r_cell == "lstm"
    cfg = ecm_flags.defaults().replace(
        model="pe2r", model_dir=str(tmp_path), embed_dim=8, hidden=12, emotion_dim=4, cerg_max_chars=8,
        batch_size=6, max_steps=2, log_every=1000, steps_per_checkpoint=1000, steps_per_eval=1000,
        jit_compile=False, vocab_size=1000, beam_size=2)
    cerg_trainer.train(cfg, CHAR_PAIRS, quiet=True)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["pe2r_cell"] == "lstm"
    assert CergPredictor.load(str(tmp_path)).model.cell == "lstm"
    with pytest.raises(InputError, match="pe2r_cell=lstm; this run has --pe2r_cell=gru"):
        cerg_trainer.train(cfg.replace(pe2r_cell="gru", max_steps=4), CHAR_PAIRS, quiet=True)
    # A config.json from before the flag existed is a GRU model.
    del saved["pe2r_cell"]
    assert models.build(saved, 100).cell == "gru"
    with pytest.raises(InputError, match="--pe2r_cell=rnn"):
        Pe2rSettings(pe2r_cell="rnn")
