"""Greedy decoding in the TF graph: the most probable allowed token at every step."""

import tensorflow as tf

from ecm_tf.samplers.beam_search import FILL_ID


def greedy_search(step_fn, initial_state, batch_size, max_len, *, start_id, eos_id, forbidden_ids, min_len=0):
    """Greedy search over `step_fn` (same contract as beam_search.beam_search, N = batch).

    Args:
      step_fn: callable (ids int32 [B], state) -> (log_probs float32 [B, V], new_state).
      initial_state: nest of tensors with leading dimension B.
      batch_size: int or scalar int32 tensor B.
      max_len: int, scalar or int32 [B] tensor, decoding steps (tokens including EOS) per example.
      start_id, eos_id, forbidden_ids, min_len: as in beam_search.

    Returns:
      ids: int32 [B, 1, max(max_len)] (EOS included, PAD after), scores: float32 [B, 1],
      lengths: int32 [B, 1] — shaped like a beam search with top_k = 1.
    """
    batch = tf.convert_to_tensor(batch_size, tf.int32)
    max_lens = tf.broadcast_to(tf.convert_to_tensor(max_len, tf.int32), [batch])  # [B]
    max_len = tf.reduce_max(max_lens)
    seqs = tf.TensorArray(tf.int32, size=0, dynamic_size=True, element_shape=tf.TensorShape([None]))

    def cond(t, prev, done, score, length, seqs, state):
        return tf.logical_and(t < max_len, tf.logical_not(tf.reduce_all(done)))

    def body(t, prev, done, score, length, seqs, state):
        done = tf.logical_or(done, t >= max_lens)
        log_probs, state = step_fn(prev, state)  # [B, V]
        vocab = log_probs.shape[-1]
        if forbidden_ids:
            forbidden = tf.reduce_any(tf.equal(tf.range(vocab)[:, None], tf.constant(list(forbidden_ids))[None]), 1)
            log_probs = tf.where(forbidden[None, :], float("-inf"), log_probs)
        # No EOS before min_len tokens (min_len=1: no empty response).
        log_probs = tf.where(tf.logical_and(tf.equal(tf.range(vocab), eos_id), t < min_len)[None, :],
                             float("-inf"), log_probs)
        token = tf.argmax(log_probs, axis=-1, output_type=tf.int32)  # [B]
        token = tf.where(done, FILL_ID, token)
        best = tf.reduce_max(log_probs, axis=-1)
        score = score + tf.where(done, 0.0, best)
        length = length + tf.cast(tf.logical_not(done), tf.int32)
        done = tf.logical_or(done, tf.equal(token, eos_id))
        return t + 1, token, done, score, length, seqs.write(t, token), state

    start = tf.fill([batch], tf.cast(start_id, tf.int32))
    _, _, _, score, length, seqs, _ = tf.while_loop(
        cond, body, (tf.constant(0), start, tf.zeros([batch], tf.bool), tf.zeros([batch]),
                     tf.zeros([batch], tf.int32), seqs, initial_state))
    ids = tf.transpose(seqs.stack())  # [B, steps]
    ids = tf.pad(ids, [[0, 0], [0, max_len - tf.shape(ids)[1]]])  # [B, L]
    return ids[:, None, :], score[:, None], length[:, None]
