"""ECMModel: decoding API agrees with teacher forcing; loss parts (Eq. 15); restore checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm import ecm_model
from ecm_tf.models.ecm import factory
from ecm_tf.models.ecm.loss import ecm_loss
from ecm_tf.models.ecm.settings import EcmSettings

VP, VR = 13, 17
MASK = np.zeros([6, VR], np.uint8)
MASK[1, [5, 6]] = 1
MASK[2, [7]] = 1
MASK[3, [8, 9, 10]] = 1  # rows 0, 4, 5 are empty


def tiny_cfg(**kw):
    return ecm_flags.defaults().replace(hidden=8, embed_dim=6, emotion_dim=5, **kw)


CODE = dict(read_gate_inputs="code", write_gate_inputs="code", imemory_layers="first", gate_bias_init=1.0,
            selector_input="output", selector_loss="bce", imemory_norm="squared", imemory_decay_padding=True,
            encoder_input="code", attention_mask_pad=False, imemory_gate_bias=True, gru_cell="code",
            attention_query_bias=True, output_features="projection")


def batch():
    rng = np.random.default_rng(3)
    return {
        "post": np.array([[5, 6, 7, 0], [8, 9, 10, 11], [4, 0, 0, 0]], np.int32),
        "post_len": np.array([3, 4, 1], np.int32),
        "response": np.concatenate([rng.integers(4, VR, size=(3, 4)), np.zeros([3, 1])], 1).astype(np.int32)
        * np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]]) + np.array(
            [[0, 0, 0, 0, 2], [0, 0, 2, 0, 0], [0, 0, 0, 0, 2]], np.int32),
        "response_len": np.array([5, 3, 5], np.int32),
        "emotion": np.array([1, 3, 0], np.int32),
        "emotion_word": np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]], np.float32),
    }


@pytest.mark.parametrize("settings", [{}, CODE], ids=["paper", "code"])
def test_step_api_matches_teacher_forcing(settings):
    model = factory.create(tiny_cfg(**settings), VP, VR, MASK)
    b = batch()
    teacher = model(b)["target_log_probs"].numpy()  # [B, T]
    encoded = model.encode(b["post"], b["post_len"])
    state = model.initial_state(encoded, b["emotion"])
    prev = np.full([3], vocab_lib.GO_ID, np.int32)
    for t in range(b["response"].shape[1]):
        log_probs, state = model.step(prev, state, encoded, b["emotion"])
        np.testing.assert_allclose(np.exp(log_probs.numpy()).sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(log_probs.numpy()[np.arange(3), b["response"][:, t]], teacher[:, t],
                                   rtol=1e-4, atol=1e-5)
        prev = b["response"][:, t]


@pytest.mark.parametrize("use_emb,use_imemory,use_ememory", [
    (False, False, False), (True, False, False), (True, True, True),
    (False, True, True), (True, False, True), (True, True, False)])
def test_variants_have_their_variables(use_emb, use_imemory, use_ememory):
    model = factory.create(tiny_cfg(use_emb=use_emb, use_imemory=use_imemory, use_ememory=use_ememory),
                             VP, VR, MASK)
    paths = " ".join(v.path for v in model.weights)
    assert ("emotion_embedding" in paths) == use_emb
    assert ("internal_memory" in paths) == use_imemory
    assert ("emotion_selector" in paths) == use_ememory


@pytest.mark.parametrize("settings", [{}, CODE], ids=["paper", "code"])
def test_loss_parts_eq_15(settings):
    cfg = tiny_cfg(**settings)
    model = factory.create(cfg, VP, VR, MASK)
    b = batch()
    out = model(b)
    parts = {k: v.numpy() for k, v in ecm_loss(out, b, cfg).items()}
    w = (np.arange(5)[None] < b["response_len"][:, None]).astype(np.float32)
    tlp, a = out["target_log_probs"].numpy(), out["selector_logits"].numpy()
    # Default --loss_average=response: each response's token mean, then the batch mean (the original).
    np.testing.assert_allclose(parts["nll"], (-(w * tlp).sum(1) / w.sum(1)).mean(), rtol=1e-5)
    np.testing.assert_allclose(parts["nll_token"], -(w * tlp).sum() / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(parts["ppl"], np.exp(parts["nll"]), rtol=1e-5)
    q = b["emotion_word"]
    log_a, log_1a = -np.log1p(np.exp(-a)), -np.log1p(np.exp(a))
    per = q * log_a + ((1 - q) * log_1a if cfg.selector_loss == "bce" else 0)
    np.testing.assert_allclose(parts["selector"], (-(w * per).sum(1) / w.sum(1)).mean(), rtol=1e-4)
    m = out["imemory"].numpy()
    end = m[:, -1] if cfg.imemory_decay_padding else m[np.arange(3), b["response_len"] - 1]
    sq = (end ** 2).sum(-1)
    want = sq.mean() if cfg.imemory_norm == "squared" else np.sqrt(sq).mean()
    np.testing.assert_allclose(parts["imemory"], want, rtol=1e-4)
    np.testing.assert_allclose(parts["loss"], parts["nll"] + parts["selector"] + parts["imemory"], rtol=1e-5)


def test_restore_refuses_wrong_variant_and_vocab(tmp_path):
    cfg = tiny_cfg(use_emb=False, use_imemory=False, use_ememory=False)
    model = factory.create(cfg, VP, VR, MASK)
    with pytest.raises(InputError, match="no config.json"):
        checkpoint_io.restore(model, str(tmp_path))
    cfg.replace(post_vocab_size=VP, response_vocab_size=VR).save(str(tmp_path))
    with pytest.raises(InputError, match="no checkpoint"):
        checkpoint_io.restore(model, str(tmp_path))
    tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    restored = factory.create(cfg, VP, VR, MASK)
    assert checkpoint_io.restore(restored, str(tmp_path))
    for saved, loaded in zip(model.weights, restored.weights):  # every variable, GRU stacks included
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy(), err_msg=saved.path)
    with pytest.raises(InputError, match="use_emb=False"):
        checkpoint_io.restore(factory.create(tiny_cfg(), VP, VR, MASK), str(tmp_path))
    bigger = np.zeros([6, VR + 1], np.uint8)
    with pytest.raises(InputError, match="response_vocab_size=17.*vocabulary-size mismatch"):
        checkpoint_io.restore(factory.create(cfg, VP, VR + 1, bigger), str(tmp_path))


def test_model_is_built_from_its_settings_and_round_trips_get_config():
    cfg = tiny_cfg(use_imemory=False, selector_input="output")
    model = factory.create(cfg, VP, VR, MASK)
    saved = model.get_config()["settings"]
    assert saved["hidden"] == cfg.hidden and saved["use_imemory"] is False and saved["selector_input"] == "output"
    assert set(saved) == set(EcmSettings.names()) and "batch_size" not in saved  # no training or CLI settings
    clone = ecm_model.ECMModel.from_config(model.get_config())
    clone.build()  # every variable, no batch needed
    assert [tuple(v.shape) for v in clone.weights] == [tuple(v.shape) for v in model.weights]
    with pytest.raises(TypeError, match="batch_size"):
        EcmSettings(batch_size=3)


def test_settings_reject_values_outside_their_choices():
    with pytest.raises(InputError, match="--output_features=both: expected one of state, projection"):
        EcmSettings(output_features="both")


def test_post_embedding_init_unit_has_variance_one_and_keras_stays_the_default():
    tf.keras.utils.set_random_seed(0)
    default = factory.create(tiny_cfg(), 4000, VR, MASK).post_embedding.embeddings.numpy()
    assert np.abs(default).max() <= 0.05  # Keras's U(-0.05, 0.05), as before the flag
    tf.keras.utils.set_random_seed(0)
    same = factory.create(tiny_cfg(post_embedding_init="keras"), 4000, VR, MASK).post_embedding.embeddings.numpy()
    np.testing.assert_array_equal(default, same)
    unit = factory.create(tiny_cfg(post_embedding_init="unit"), 4000, VR, MASK)
    w = unit.post_embedding.embeddings.numpy()  # 24,000 draws of U(-sqrt 3, sqrt 3): mean 0, variance 1
    assert np.abs(w).max() <= np.sqrt(3) and abs(w.mean()) < 0.03 and abs(w.var() - 1.0) < 0.03
    assert np.abs(unit.response_embedding.embeddings.numpy()).max() <= 0.05  # the decoder's are unchanged
    assert unit.get_config()["settings"]["post_embedding_init"] == "unit"
    with pytest.raises(InputError, match="--post_embedding_init=big"):
        factory.create(tiny_cfg(post_embedding_init="big"), VP, VR, MASK)


@pytest.mark.parametrize("settings", [{}, CODE], ids=["paper", "code"])
def test_cell_in_plain_keras_rnn_equals_training_path_and_a_search_step(settings):
    """ECMCell in a keras.layers.RNN of its own, from the model's initial state, gives the states the
    training path reads (M after each step, bit for bit); one step of the search's step_fn gives the
    first of them and the first target log-probabilities."""
    model = factory.create(tiny_cfg(**settings), VP, VR, MASK)
    b = batch()
    teacher = model(b)
    encoded = model.encode(b["post"], b["post_len"])
    state = model.initial_state(encoded, b["emotion"])  # binds the memory
    dec_in = model.response_embedding(np.concatenate([np.full([3, 1], vocab_lib.GO_ID), b["response"][:, :-1]], 1))
    outputs = keras.layers.RNN(model.cell, return_sequences=True)(dec_in, initial_state=state)  # [B, T, S]
    np.testing.assert_array_equal(model.cell.readout(outputs)[2], teacher["imemory"])
    step = model.step_fn({k: encoded[k] for k in ("values", "keys", "mask")}, b["emotion"])
    log_probs, new_state = step(np.full([3], vocab_lib.GO_ID, np.int32), state)
    np.testing.assert_array_equal(new_state, outputs[:, 0])
    np.testing.assert_allclose(log_probs.numpy()[np.arange(3), b["response"][:, 0]],
                               teacher["target_log_probs"].numpy()[:, 0], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("settings", [{}, CODE], ids=["paper", "code"])
def test_keras_rnn_recurrence_trains_as_the_scan(settings):
    """recurrence="rnn" (keras.layers.RNN drives the cell) gives the scan's loss and gradients."""
    cfg = tiny_cfg(**settings)
    scan = factory.create(cfg, VP, VR, MASK)
    rnn = factory.create(cfg, VP, VR, MASK, recurrence="rnn")
    rnn.set_weights(scan.get_weights())
    results = []
    for model in (scan, rnn):
        with tf.GradientTape() as tape:
            loss = ecm_loss(model(batch(), training=True), batch(), cfg)["loss"]
        results.append((float(loss), tape.gradient(loss, model.trainable_variables)))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-6)
    for g_scan, g_rnn in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(tf.convert_to_tensor(g_rnn), tf.convert_to_tensor(g_scan), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="recurrence='loop'"):
        factory.create(cfg, VP, VR, MASK, recurrence="loop")
