"""Golden tests of the graph beam search and greedy search on fixed log-probability tables.

The step function looks up a hand-made table by (step, previous token), so the right answers
are computed by brute force: exhaustive enumeration (beam wide enough to be exact) and a plain
Python re-implementation of the original algorithm (all finished kept, sorted at the end).
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.samplers import beam_search as beam_lib
from ecm_tf.samplers import greedy as greedy_lib
from ecm_tf.samplers.beam_search import tile_beam

# The samplers take every token id from the caller: here ECM's (data/vocab.py).
IDS = dict(start_id=3, eos_id=2, forbidden_ids=(0, 1))


def beam_search(*args, **kwargs):
    return beam_lib.beam_search(*args, **{**IDS, "unk_id": 1, **kwargs})


def greedy_search(*args, **kwargs):
    return greedy_lib.greedy_search(*args, **{**IDS, **kwargs})

PAD, UNK, EOS, GO = 0, 1, 2, 3


def table_step(table):
    """step_fn over table [B, L, V, V] (example, step, previous token) -> log-probs; state = (example, step)."""
    table = tf.constant(table, tf.float32)

    def step_fn(ids, state):
        example, t = state
        lp = tf.gather_nd(table, tf.stack([example, t, ids], axis=1))
        return lp, (example, t + 1)

    return step_fn


def initial(batch):
    return (tf.range(batch, dtype=tf.int32), tf.zeros([batch], tf.int32))


def random_table(rng, batch, length, vocab, concentration=1.0):
    probs = rng.dirichlet([concentration] * vocab, size=(batch, length, vocab))
    return np.log(probs).astype(np.float32)


def run_beam(table, beam, max_len, top_k=None, forbidden=(PAD, UNK)):
    batch = table.shape[0]
    ids, scores, lengths = beam_search(table_step(table), initial(batch), batch, beam, max_len, top_k=top_k,
                                       forbidden_ids=forbidden)
    return ids.numpy(), scores.numpy(), lengths.numpy()


def enumerate_all(table_b, max_len, allowed):
    """Every sequence the search can produce: (finished?, tokens, score), ending in EOS or at max_len."""
    out = []
    for n in range(1, max_len + 1):
        for seq in itertools.product(allowed, repeat=n):
            if EOS in seq[:-1]:
                continue
            prev, score = GO, 0.0
            for t, tok in enumerate(seq):
                score += float(table_b[t, prev, tok])
                prev = tok
            finished = seq[-1] == EOS
            if finished or n == max_len:
                out.append((finished, seq, score))
    return out


def reference_beam(table_b, beam, max_len, allowed, unk=UNK):
    """The original algorithm in plain Python: top 2*beam continuations, EOS -> results, best beam continue."""
    alive = [((), 0.0)]
    finished = []
    for t in range(max_len):
        cands = []
        for seq, score in alive:
            prev = seq[-1] if seq else GO
            for tok in allowed:
                cands.append((seq + (tok,), score + float(table_b[t, prev, tok])))
        cands.sort(key=lambda c: -c[1])
        cands = cands[: 2 * beam]
        finished += [c for c in cands if c[0][-1] == EOS]
        alive = [c for c in cands if c[0][-1] != EOS][:beam]
    results = [(0, unk in s, -sc, s) for s, sc in finished] + [(1, unk in s, -sc, s) for s, sc in alive]
    results.sort()
    return [(s, -negsc) for _, _, negsc, s in results]


def decoded(ids, lengths, b, k):
    return tuple(int(x) for x in ids[b, k, : lengths[b, k]])


def test_exhaustive_enumeration_matches_wide_beam():
    rng = np.random.default_rng(0)
    vocab, max_len = 6, 3  # allowed: EOS, GO, 4, 5 (GO may be generated, as in the original)
    table = random_table(rng, 1, max_len, vocab)
    allowed = [2, 3, 4, 5]
    # 3 non-EOS words: 1 + 3 + 9 finished, 27 unfinished; beam 32 keeps every hypothesis.
    ids, scores, lengths = run_beam(table, beam=32, max_len=max_len, top_k=20)
    everything = enumerate_all(table[0], max_len, allowed)
    expected = sorted(everything, key=lambda c: (not c[0], -c[2]))[:20]
    assert len([c for c in everything if c[0]]) == 13
    for k, (_, seq, score) in enumerate(expected):
        assert decoded(ids, lengths, 0, k) == seq
        np.testing.assert_allclose(scores[0, k], score, rtol=1e-5)
    # Finished sequences are padded with PAD after EOS.
    assert (ids[0, 0, lengths[0, 0]:] == PAD).all()


@pytest.mark.parametrize("beam", [1, 2, 3])
def test_narrow_beam_matches_reference_and_batches_are_independent(beam):
    rng = np.random.default_rng(beam)
    batch, max_len, vocab = 3, 5, 8
    table = random_table(rng, batch, max_len, vocab, concentration=0.5)
    ids, scores, lengths = run_beam(table, beam=beam, max_len=max_len)
    for b in range(batch):
        expected = reference_beam(table[b], beam, max_len, allowed=list(range(2, vocab)))[:beam]
        for k, (seq, score) in enumerate(expected):
            assert decoded(ids, lengths, b, k) == seq, (b, k)
            np.testing.assert_allclose(scores[b, k], score, rtol=1e-5)
        # The same example alone gives the same results.
        alone = run_beam(table[b:b + 1], beam=beam, max_len=max_len)
        np.testing.assert_array_equal(alone[0][0], ids[b])
        np.testing.assert_allclose(alone[1][0], scores[b], rtol=1e-6)


def hand_table(rows, vocab=6, floor=1e-6):
    """[1, L, V, V] table where every previous token shares the step's distribution rows[t];
    unlisted tokens get probability `floor` (0: impossible, log-prob -inf)."""
    table = np.zeros((1, len(rows), vocab, vocab), np.float32)
    for t, probs in enumerate(rows):
        p = np.full(vocab, floor)
        for tok, v in probs.items():
            p[tok] = v
        with np.errstate(divide="ignore"):
            table[0, t, :, :] = np.log(p)[None, :]
    return table


def test_pad_and_unk_never_generated_even_when_most_probable():
    table = hand_table([{PAD: 0.5, UNK: 0.3, 4: 0.15, 5: 0.05}, {UNK: 0.9, EOS: 0.1}])
    ids, scores, lengths = run_beam(table, beam=2, max_len=2)
    assert decoded(ids, lengths, 0, 0) == (4, EOS)
    np.testing.assert_allclose(scores[0, 0], np.log(0.15) + np.log(0.1), rtol=1e-5)
    assert decoded(ids, lengths, 0, 1) == (5, EOS)
    assert not np.isin(ids, [UNK]).any()
    g_ids, g_scores, g_len = greedy_search(table_step(table), initial(1), 1, 2)
    assert decoded(g_ids.numpy(), g_len.numpy(), 0, 0) == (4, EOS)


def test_finished_hypothesis_kept_when_later_beams_score_lower():
    # Step 0: EOS 0.4 vs word 4 0.6; afterwards everything after 4 is spread thin (max 0.3).
    table = hand_table([{EOS: 0.4, 4: 0.6}, {EOS: 0.3, 4: 0.25, 5: 0.25, 3: 0.2}, {EOS: 1.0}])
    ids, scores, lengths = run_beam(table, beam=2, max_len=3)
    assert decoded(ids, lengths, 0, 0) == (EOS,)  # 0.4 beats 0.6 * 0.3 = 0.18
    assert lengths[0, 0] == 1
    np.testing.assert_allclose(scores[0, 0], np.log(0.4), rtol=1e-5)
    assert decoded(ids, lengths, 0, 1) == (4, EOS)
    np.testing.assert_allclose(scores[0, 1], np.log(0.6 * 0.3), rtol=1e-5)
    # Greedy follows the 0.6 branch instead.
    g_ids, g_scores, g_len = greedy_search(table_step(table), initial(1), 1, 3)
    assert decoded(g_ids.numpy(), g_len.numpy(), 0, 0) == (4, EOS)
    np.testing.assert_allclose(g_scores.numpy()[0, 0], np.log(0.18), rtol=1e-5)


def test_max_len_respected_and_unfinished_rank_last():
    # EOS only reachable at step 0 with a tiny probability; otherwise words forever.
    table = hand_table([{EOS: 0.01, 4: 0.99}, {4: 0.7, 5: 0.3}, {4: 0.7, 5: 0.3}, {4: 0.7, 5: 0.3}], floor=0.0)
    ids, scores, lengths = run_beam(table, beam=2, max_len=4, top_k=2)
    assert ids.shape == (1, 2, 4)
    assert decoded(ids, lengths, 0, 0) == (EOS,)  # finished ranks first even with a lower score
    assert decoded(ids, lengths, 0, 1) == (4, 4, 4, 4)
    assert lengths[0, 1] == 4
    np.testing.assert_allclose(scores[0, 1], np.log(0.99 * 0.7 ** 3), rtol=1e-5)


def test_unk_allowed_ranks_after_unk_free():
    table = hand_table([{UNK: 0.9, 4: 0.1}, {EOS: 1.0}], floor=0.0)
    ids, scores, lengths = run_beam(table, beam=2, max_len=2, forbidden=(PAD,))
    assert decoded(ids, lengths, 0, 0) == (4, EOS)
    assert decoded(ids, lengths, 0, 1) == (UNK, EOS)


def test_tf_function_with_dynamic_batch_and_tiled_memory():
    rng = np.random.default_rng(7)
    batch, beam, max_len, vocab, hidden = 2, 3, 4, 9, 5
    memory = tf.constant(rng.normal(size=(batch, 3, hidden)), tf.float32)
    emb = tf.constant(rng.normal(size=(vocab, hidden)), tf.float32)
    out_w = tf.constant(rng.normal(size=(hidden, vocab)), tf.float32)

    def decode(memory):
        b = tf.shape(memory)[0]
        tiled = tile_beam(memory, beam)  # [N, 3, H], computed once

        def step_fn(ids, h):
            h = tf.tanh(h + tf.gather(emb, ids) + tf.reduce_mean(tiled, 1))
            return tf.nn.log_softmax(tf.matmul(h, out_w)), h

        return beam_search(step_fn, tf.zeros([b, hidden]), b, beam, max_len)

    eager = decode(memory)
    graph = tf.function(decode, input_signature=[tf.TensorSpec([None, 3, hidden], tf.float32)])(memory)
    for e, g in zip(eager, graph):
        np.testing.assert_allclose(e.numpy(), g.numpy(), rtol=1e-5)


def test_greedy_stops_each_example_at_eos():
    table = np.concatenate([hand_table([{EOS: 0.9, 4: 0.1}, {EOS: 1.0}]),
                            hand_table([{4: 0.9, EOS: 0.1}, {5: 0.8, EOS: 0.2}])])
    ids, scores, lengths = greedy_search(table_step(table), initial(2), 2, 2)
    np.testing.assert_array_equal(ids.numpy()[:, 0], [[EOS, PAD], [4, 5]])
    np.testing.assert_array_equal(lengths.numpy()[:, 0], [1, 2])
    np.testing.assert_allclose(scores.numpy()[:, 0], [np.log(0.9), np.log(0.72)], rtol=1e-5)


def test_per_example_max_len_matches_decoding_alone():
    rng = np.random.default_rng(11)
    table = random_table(rng, 3, 5, 7, concentration=0.3)
    limits = [2, 5, 3]
    batch = 3
    ids, scores, lengths = beam_search(table_step(table), initial(batch), batch, 3, tf.constant(limits))
    g_ids, g_scores, g_lengths = greedy_search(table_step(table), initial(batch), batch, tf.constant(limits))
    assert ids.shape[-1] == 5
    for b, limit in enumerate(limits):
        alone = run_beam(table[b:b + 1], beam=3, max_len=limit)
        assert (lengths.numpy()[b] <= limit).all()
        np.testing.assert_array_equal(ids.numpy()[b, :, :limit], alone[0][0])
        np.testing.assert_allclose(scores.numpy()[b], alone[1][0], rtol=1e-6)
        np.testing.assert_array_equal(lengths.numpy()[b], alone[2][0])
        g_alone = greedy_search(table_step(table[b:b + 1]), initial(1), 1, limit)
        np.testing.assert_array_equal(g_ids.numpy()[b, :, :limit], g_alone[0].numpy()[0, :, :limit])
        np.testing.assert_allclose(g_scores.numpy()[b], g_alone[1].numpy()[0], rtol=1e-6)


def test_min_len_forbids_an_empty_response():
    table = hand_table([{EOS: 0.9, 4: 0.1}, {EOS: 1.0}], floor=0.0)
    ids, scores, lengths = beam_search(table_step(table), initial(1), 1, 2, 2, min_len=1)
    assert decoded(ids.numpy(), lengths.numpy(), 0, 0) == (4, EOS)
    np.testing.assert_allclose(scores.numpy()[0, 0], np.log(0.1), rtol=1e-5)
    assert run_beam(table, beam=2, max_len=2)[2][0, 0] == 1  # min_len=0: the empty response wins
    g_ids, _, g_len = greedy_search(table_step(table), initial(1), 1, 2, min_len=1)
    assert decoded(g_ids.numpy(), g_len.numpy(), 0, 0) == (4, EOS)


def test_min_len_two_rules_out_a_lone_word_by_hand():
    # --min_decode_len=2. Step 0: 4 (0.7) or 5 (0.3); step 1: EOS 0.8, 5 0.15, 4 0.05; step 2: EOS.
    table = hand_table([{4: 0.7, 5: 0.3}, {EOS: 0.8, 5: 0.15, 4: 0.05}, {EOS: 1.0}], floor=0.0)
    ids, scores, lengths = beam_search(table_step(table), initial(1), 1, 3, 3, min_len=1)
    assert decoded(ids.numpy(), lengths.numpy(), 0, 0) == (4, EOS)  # the lone word: 0.7 x 0.8 = 0.56
    np.testing.assert_allclose(scores.numpy()[0, 0], np.log(0.56), rtol=1e-5)
    ids, scores, lengths = beam_search(table_step(table), initial(1), 1, 3, 3, min_len=2)
    # EOS is ruled out at step 1: 4 5 EOS (0.7 x 0.15 = 0.105) beats 5 5 EOS (0.045) and 4 4 EOS (0.035).
    assert [decoded(ids.numpy(), lengths.numpy(), 0, k) for k in range(3)] == [(4, 5, EOS), (5, 5, EOS), (4, 4, EOS)]
    np.testing.assert_allclose(scores.numpy()[0], np.log([0.105, 0.045, 0.035]), rtol=1e-5)
    g_ids, g_scores, g_len = greedy_search(table_step(table), initial(1), 1, 3, min_len=2)
    assert decoded(g_ids.numpy(), g_len.numpy(), 0, 0) == (4, 5, EOS)
    np.testing.assert_allclose(g_scores.numpy()[0, 0], np.log(0.105), rtol=1e-5)
