"""The beam search's two-level top-k (samplers/beam_search.best_continuations) against one plain top_k.

At a large vocabulary the search takes the best 2K continuations of each example through the
block maxima of the [K, V] totals; these tests force that path at small sizes (ties, -inf, a
vocabulary that the block width does not divide) and require the same scores, parents and ids,
bit for bit, as tf.math.top_k over all K x V totals, and the same search results as the plain path.
"""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.samplers import beam_search as beam_lib

IDS = dict(start_id=3, eos_id=2, forbidden_ids=(0, 1), unk_id=1)


def plain(log_probs, alive, k):
    batch, beam = alive.shape
    vocab = log_probs.shape[-1]
    total = alive.reshape(-1)[:, None] + log_probs
    score, flat = tf.math.top_k(total.reshape(batch, beam * vocab), k=k)
    return score.numpy(), (flat // vocab).numpy(), (flat % vocab).numpy()


@pytest.mark.parametrize("vocab,block", [(60, 6), (60, 7), (61, 4), (40, 20)])
def test_blocks_rank_exactly_as_one_top_k(vocab, block):
    rng = np.random.default_rng(vocab + block)
    batch, beam, k = 3, 4, 8
    # Few distinct values (many ties, within and across rows), some -inf, one dead beam.
    log_probs = -rng.integers(0, 6, size=[batch * beam, vocab]).astype(np.float32)
    log_probs[rng.random(log_probs.shape) < 0.2] = -np.inf
    alive = -rng.integers(0, 3, size=[batch, beam]).astype(np.float32)
    alive[1, 2] = -np.inf
    got = beam_lib.best_continuations(tf.constant(log_probs), tf.constant(alive), k, block=block)
    for g, want in zip(got, plain(log_probs, alive, k)):
        np.testing.assert_array_equal(g.numpy(), want)


def test_blocks_in_graph_mode_with_dynamic_batch():
    rng = np.random.default_rng(3)
    log_probs = rng.normal(size=[2 * 3, 50]).astype(np.float32)
    alive = rng.normal(size=[2, 3]).astype(np.float32)
    f = tf.function(lambda lp, a: beam_lib.best_continuations(lp, a, 6, block=5),
                    input_signature=[tf.TensorSpec([None, 50], tf.float32), tf.TensorSpec([None, 3], tf.float32)])
    for g, want in zip(f(log_probs, alive), plain(log_probs, alive, 6)):
        np.testing.assert_array_equal(g.numpy(), want)


def test_default_block_width():
    assert beam_lib._block_size(500) is None  # small vocabularies: one top_k
    block = beam_lib._block_size(40000)  # a divisor of V near sqrt(V / 2) = 141
    assert 40000 % block == 0 and 100 <= block <= 200
    assert beam_lib._block_size(40009) == 141  # prime: padded blocks


def test_search_through_blocks_equals_the_plain_search(monkeypatch):
    rng = np.random.default_rng(5)
    batch, length, vocab, beam = 2, 4, 12, 3
    # Log-probs on a coarse grid: many exact ties between continuations.
    table = np.log(rng.dirichlet([0.5] * vocab, size=(batch, length, vocab))).astype(np.float32)
    table = np.round(table * 2) / 2

    def step_fn(ids, state):
        example, t = state
        return tf.gather_nd(tf.constant(table), tf.stack([example, t, ids], axis=1)), (example, t + 1)

    def search():
        init = (tf.range(batch, dtype=tf.int32), tf.zeros([batch], tf.int32))
        return [x.numpy() for x in beam_lib.beam_search(step_fn, init, batch, beam, length, min_len=1, **IDS)]

    monkeypatch.setattr(beam_lib, "_block_size", lambda v: None)
    want = search()
    for block in (2, 4, 5):
        monkeypatch.setattr(beam_lib, "_block_size", lambda v, b=block: b)
        for g, w in zip(search(), want):
            np.testing.assert_array_equal(g, w)
