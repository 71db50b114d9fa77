"""CERG attention mask, information flow, embeddings positions and the replacement schedule."""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import replacement
from ecm_tf.models.cerg.attention_mask import Seq2SeqAttentionMask, seq2seq_mask
from ecm_tf.models.cerg.cerg_model import CergModel
from ecm_tf.models.cerg.embeddings import CergEmbeddings


def test_mask_matches_hand_written_matrix():
    # [emo] p1 p2 [SEP] r1 r2 PAD: segments 0 0 0 0 1 1 1, the last position is padding.
    segments = tf.constant([[0, 0, 0, 0, 1, 1, 1]])
    real = tf.constant([[True] * 6 + [False]])
    expected = np.array([
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 0],
    ], bool)
    np.testing.assert_array_equal(seq2seq_mask(segments, real).numpy()[0], expected)
    np.testing.assert_array_equal(Seq2SeqAttentionMask()(segments, real).numpy()[0], expected)


def test_positions_skip_padding_in_the_middle():
    emb = CergEmbeddings(20, 8, 10, dropout=0.0)
    packed = emb(tf.constant([[7, 12, 4, 13]]), tf.constant([[0, 0, 0, 1]]))
    padded = emb(tf.constant([[7, 12, 0, 0, 4, 13]]), tf.constant([[0, 0, 0, 0, 0, 1]]))
    np.testing.assert_allclose(padded.numpy()[0, [0, 1, 4, 5]], packed.numpy()[0], atol=1e-6)


def test_later_response_characters_do_not_change_earlier_logits():
    model = CergModel(30, 16, 2, 2, max_chars=4, dropout=0.0)
    post = tf.constant([[12, 13, 14, 0]])
    first, segments = model.sequence(tf.constant([1]), post, tf.constant([[15, 16, 17, 18]]))
    second, _ = model.sequence(tf.constant([1]), post, tf.constant([[15, 16, 25, 26]]))
    a = model.response_logits(first, segments).numpy()[0]  # outputs at [SEP], r1 .. r4
    b = model.response_logits(second, segments).numpy()[0]
    np.testing.assert_allclose(a[:3], b[:3], atol=1e-5)  # [SEP], r1, r2 see nothing of r3, r4
    assert np.abs(a[3] - b[3]).max() > 1e-4
    # The post is fully visible: a change in its last character changes the first output.
    third, _ = model.sequence(tf.constant([1]), tf.constant([[12, 13, 20, 0]]), tf.constant([[15, 16, 17, 18]]))
    assert np.abs(model.response_logits(third, segments).numpy()[0, 0] - a[0]).max() > 1e-4


def test_incremental_step_equals_teacher_forcing():
    """The cached step (source keys/values computed once, one new position a step) gives the
    teacher-forced log-probabilities of the full sequence, for posts of different lengths."""
    model = CergModel(30, 16, 2, 2, max_chars=4, dropout=0.0)
    emotion = tf.constant([2, 5])
    post = tf.constant([[12, 13, 0, 0], [12, 20, 21, 22]])
    response = tf.constant([[15, 16, 17, 0], [18, 19, 15, 16]])
    tokens, segments = model.sequence(emotion, post, response)
    full = tf.nn.log_softmax(model.response_logits(tokens, segments)).numpy()  # [2, R + 1, V]
    state, ids = model.initial_state(emotion, post), tf.constant([char_vocab.SEP_ID] * 2)
    for t in range(4):
        log_probs, state = model.step(ids, state)
        np.testing.assert_allclose(log_probs.numpy(), full[:, t], atol=1e-5)
        ids = response[:, t]


@pytest.mark.parametrize("step, rate, p_model", [(0, 0.0, 0.0), (250, 0.0125, 0.25), (1000, 0.05, 1.0),
                                                 (5000, 0.05, 1.0)])
def test_replacement_schedule(step, rate, p_model):
    r, p = replacement.schedule(step, 0.05, 1000)
    assert r == pytest.approx(rate) and p == pytest.approx(p_model)
    r, p = replacement.schedule(tf.constant(step, tf.int64), 0.05, 1000)
    assert float(r) == pytest.approx(rate) and float(p) == pytest.approx(p_model)


def test_replacement_touches_only_characters_at_the_scheduled_rate():
    mlm = replacement.substitute_mlm(60, 16, 2, max_chars=16)
    model = CergModel(60, 16, 1, 2, max_chars=16)
    rng = np.random.default_rng(0)
    post = tf.constant(rng.integers(char_vocab.FIRST_CHAR_ID, 60, [64, 16]), tf.int32)
    tokens, segments = model.sequence(tf.zeros([64], tf.int32), post, post)
    seed = tf.constant([1, 2], tf.int64)
    np.testing.assert_array_equal(replacement.replace(mlm, tokens, segments, 0.5, 0.0, seed), tokens)
    out = replacement.replace(mlm, tokens, segments, 0.5, 1.0, seed).numpy()
    changed = out != tokens.numpy()
    special = tokens.numpy() < char_vocab.FIRST_CHAR_ID
    assert not changed[special].any() and (out[~special] >= char_vocab.FIRST_CHAR_ID).all()
    assert 0.3 < changed[~special].mean() < 0.5  # 50 % chosen; a sample may equal the original
