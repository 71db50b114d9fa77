"""The external-memory output (Eq. 11-14): a proper mixture, emotion mass = alpha, empty rows safe."""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.layers.external_memory_output import ExternalMemoryOutput

RNG = np.random.default_rng(1)
V = 9


def make(use_ememory=True, selector_bias=False):
    layer = ExternalMemoryOutput(V, use_ememory=use_ememory, selector_bias=selector_bias)
    feats = RNG.normal(size=(3, 4)).astype(np.float32)
    mask = np.zeros([3, V], np.float32)
    mask[0, [4, 5]] = 1  # example 0: two emotion words
    mask[1, [6]] = 1  # example 1: one (a mixed-emotion batch)
    layer(feats, feats, mask)
    for w in layer.weights:
        w.assign(RNG.normal(size=w.shape).astype(np.float32))
    return layer, feats, mask


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def test_mixture_matches_eq_14_and_sums_to_one():
    layer, feats, mask = make()
    log_probs, a = layer(feats, feats, mask)
    probs = np.exp(log_probs.numpy())
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    logits = feats @ layer.logits_dense.kernel.numpy() + layer.logits_dense.bias.numpy()
    alpha = 1 / (1 + np.exp(-(feats @ layer.selector.kernel.numpy())[:, 0]))  # Eq. 11, no bias
    np.testing.assert_allclose(a.numpy(), (feats @ layer.selector.kernel.numpy())[:, 0], rtol=1e-5)
    for i in range(2):
        emo = mask[i] > 0
        want = np.zeros(V)
        want[~emo] = (1 - alpha[i]) * softmax(logits[i][~emo])  # Eq. 12
        want[emo] = alpha[i] * softmax(logits[i][emo])  # Eq. 13
        np.testing.assert_allclose(probs[i], want, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(probs[i][emo].sum(), alpha[i], rtol=1e-5)  # emotion mass is alpha


def test_empty_emotion_row_gives_generic_distribution_without_nan():
    layer, feats, mask = make()
    log_probs, _ = layer(feats, feats, mask)
    row = log_probs.numpy()[2]  # example 2 has no emotion word
    assert np.isfinite(row).all()
    logits = feats[2] @ layer.logits_dense.kernel.numpy() + layer.logits_dense.bias.numpy()
    np.testing.assert_allclose(np.exp(row), softmax(logits), rtol=1e-4)
    with tf.GradientTape() as tape:
        lp, _ = layer(feats, feats, mask, targets=np.array([1, 2, 3]))
        total = tf.reduce_sum(lp)
    grads = tape.gradient(total, layer.trainable_variables)
    assert all(np.isfinite(g.numpy()).all() for g in grads)


def test_targets_pick_the_full_log_probs():
    layer, feats, mask = make(selector_bias=True)
    full, _ = layer(feats, feats, mask)
    targets = np.array([4, 6, 0])
    picked, _ = layer(feats, feats, mask, targets=targets)
    np.testing.assert_allclose(picked, full.numpy()[np.arange(3), targets], rtol=1e-5)


def test_broadcast_mask_over_time():
    layer, feats, mask = make()
    seq = np.stack([feats, feats[::-1]], axis=1)  # [B, 2, H]
    full, _ = layer(seq, seq, mask[:, None, :])
    np.testing.assert_allclose(np.exp(full.numpy()).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(full.numpy()[:, 0], layer(feats, feats, mask)[0].numpy(), rtol=1e-5)


def test_without_ememory_is_a_plain_softmax():
    layer, feats, mask = make(use_ememory=False)
    log_probs, a = layer(feats, None, None)
    assert a is None
    logits = feats @ layer.logits_dense.kernel.numpy() + layer.logits_dense.bias.numpy()
    np.testing.assert_allclose(np.exp(log_probs.numpy()[0]), softmax(logits[0]), rtol=1e-5)


@pytest.mark.parametrize("use_ememory", [True, False])
def test_target_path_equals_the_full_distribution_with_its_gradients(use_ememory):
    """Training's shortcut (target logit from its column, one logsumexp over the target's part)
    gives the values and the gradients of picking from the full log-probabilities."""
    layer, feats, mask = make(use_ememory=use_ememory, selector_bias=True)
    seq = np.stack([feats, feats[::-1] * 0.5], axis=1)  # [B, 2, H]
    targets = np.array([[4, 1], [6, 6], [0, 8]])  # emotion and generic targets, one row without emotion words

    def both(path):
        with tf.GradientTape() as tape:
            if path == "targets":
                lp, _ = layer(seq, seq, mask[:, None, :], targets=targets)
            else:
                full, _ = layer(seq, seq, mask[:, None, :])
                lp = tf.gather(full, targets, batch_dims=2)
            total = tf.reduce_sum(lp * np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], np.float32))
        return lp.numpy(), [g.numpy() for g in tape.gradient(total, layer.trainable_variables)]

    picked, grads = both("targets")
    want, want_grads = both("full")
    np.testing.assert_allclose(picked, want, rtol=1e-5, atol=1e-6)
    assert len(grads) == (4 if use_ememory else 2)  # logits kernel and bias (, selector kernel and bias)
    for g, w in zip(grads, want_grads):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-6)


def test_get_config_round_trip():
    layer = ExternalMemoryOutput(V, use_ememory=True, selector_bias=True, name="out")
    assert ExternalMemoryOutput.from_config(layer.get_config()).get_config() == layer.get_config()


@pytest.mark.parametrize("vocab", [9, 1003])
@pytest.mark.parametrize("use_ememory", [True, False])
def test_decode_log_probs_equal_call(vocab, use_ememory):
    """The decoding step's path (one exp pass, part sums by a matmul) gives call's values to float rounding."""
    rng = np.random.default_rng(vocab)
    layer = ExternalMemoryOutput(vocab, use_ememory=use_ememory)
    feats = rng.normal(size=(4, 6)).astype(np.float32)
    mask = rng.random([6, vocab]) < 0.1
    mask[0] = False  # emotion 0 without words: all mass on the generic part
    emotion = np.array([1, 0, 5, 1], np.int32)
    layer(feats, feats, mask[emotion].astype(np.float32))
    for w in layer.weights:
        w.assign(3 * rng.normal(size=w.shape).astype(np.float32))
    want = layer(feats, feats, mask[emotion].astype(np.float32))[0].numpy()
    parts = layer.decode_parts(tf.constant(mask), emotion)
    decode = tf.function(lambda f: layer.decode_log_probs(f, f, parts))
    for got in (layer.decode_log_probs(feats, feats, parts), decode(feats)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=2e-5)


def test_decode_log_probs_far_apart_parts_take_the_masked_path():
    """Emotion logits ~100 below the generic ones: exp(l - max l) would flush them to 0; the step then
    computes the two masked logsumexps, exactly as call (no inf, no NaN)."""
    rng = np.random.default_rng(2)
    vocab = 50
    layer = ExternalMemoryOutput(vocab)
    feats = rng.normal(size=(3, 4)).astype(np.float32)
    mask = np.zeros([6, vocab], bool)
    mask[2, :5] = True
    emotion = np.array([2, 2, 0], np.int32)
    layer(feats, feats, mask[emotion].astype(np.float32))
    bias = np.zeros(vocab, np.float32)
    bias[:5] = -100.0
    layer.logits_dense.bias.assign(bias)
    want = layer(feats, feats, mask[emotion].astype(np.float32))[0].numpy()
    got = layer.decode_log_probs(feats, feats, layer.decode_parts(tf.constant(mask), emotion)).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(np.exp(got).sum(-1), 1.0, rtol=1e-5)
