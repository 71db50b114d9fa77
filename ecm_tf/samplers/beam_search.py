"""Model-independent beam search in the TF graph (runs inside tf.function and a SavedModel).

The original ECM decoder (see docs: "Decoding"): at every step the top 2 x beam continuations over
the allowed ids are taken (PAD and UNK are never produced); those ending in EOS go to the result
list, scored by their raw cumulative log-probability (no length normalisation); the best `beam`
others continue. Results are ranked with UNK-free candidates first, then by score.

Here the result list is a fixed buffer of `beam_size` slots merged every step; since the ranking
key is a total order, keeping the best `beam_size` finished candidates is the same as keeping all
of them and sorting at the end. Hypotheses still alive at `max_len` are a fallback: they rank
below every finished one (they never produced EOS). The loop stops early once `beam_size`
candidates have finished and no alive hypothesis can beat the worst of them (log-probs only
decrease), which changes nothing in the results.

Usage:
  memory = tile_beam(encoder_outputs, beam)          # once; step_fn closes over it
  ids, scores, lengths = beam_search(step_fn, state, batch, beam, max_len, start_id=GO, eos_id=EOS,
                                     forbidden_ids=(PAD, UNK), unk_id=UNK)
where `step_fn(ids [N], state) -> (log_probs [N, V], new_state)`, N = batch * beam, and `state`
is a nest of tensors with leading dimension `batch` (tiled here) that is reordered by the parent
beam each step. Encoder memory is never re-gathered: all beams of one example share it.
"""

import tensorflow as tf

# Written after a finished sequence's EOS (both vocabularies' PAD is 0).
FILL_ID = 0
# Ranking penalties: far larger than any sum of log-probs over a response, far from overflow.
_UNK_PENALTY = 1e6
_UNFINISHED_PENALTY = 1e7


def tile_beam(nest, beam_size):
    """Repeats every tensor of `nest` `beam_size` times along axis 0: [B, ...] -> [B * beam, ...].

    Rows of one example are adjacent (example b's beams are rows b*beam .. b*beam+beam-1).
    """

    def tile(t):
        t = tf.convert_to_tensor(t)
        return tf.repeat(t, beam_size, axis=0)

    return tf.nest.map_structure(tile, nest)


def _gather_beams(t, indices, batch_size, beam_size):
    """Rows of `t` [B * beam, ...] picked by `indices` [B, beam] (beam numbers within each example)."""
    flat = indices + tf.range(batch_size)[:, None] * beam_size  # [B, beam]
    return tf.gather(t, tf.reshape(flat, [-1]), axis=0)


def _block_size(vocab):
    """Block width of the two-level top-k (None: one top_k over all K x V, for a small vocabulary).

    About sqrt(V / 2), so the block maxima (K V / block) and the candidate blocks (2K x block) are
    of the same size; a divisor of V when one lies within a factor 2 of it (no padding).
    """
    if vocab < 1024:
        return None
    target = (vocab / 2) ** 0.5
    divisors = [d for d in range(int(target / 2), int(target * 2) + 1) if d > 0 and vocab % d == 0]
    return min(divisors, key=lambda d: abs(d / target - target / d)) if divisors else int(round(target))


def best_continuations(log_probs, alive_score, k, block=None):
    """The k best continuations of every example: alive_score[b, i] + log_probs[b * K + i, v] over (i, v).

    Exactly tf.math.top_k over the [B, K * V] totals (ties to the lower beam, then the lower id),
    without sorting all K x V of them: the totals are cut into blocks of `block` ids within a row,
    a block's maximum is the row's score + its largest log-prob (rounding is monotonic, so this is
    the maximum of its totals, bit for bit), the k best blocks hold the k best totals (a total
    outside them is beaten by the maximum of each of k blocks), and one top_k over those blocks,
    taken in their original order, ranks exactly as over the whole row.

    Args:
      log_probs: float32 [B * K, V], V static. alive_score: float32 [B, K]. k: int <= K * V.
      block: block width (default _block_size(V); 0 or None there: one top_k over K x V).

    Returns: scores [B, k], parent beams [B, k], token ids [B, k] (int32).
    """
    vocab = log_probs.shape[-1]
    beam = alive_score.shape[-1]
    batch = tf.shape(alive_score)[0]
    block = _block_size(vocab) if block is None else block
    if not block or vocab * beam < 2 * k * block:
        total = tf.reshape(alive_score, [-1])[:, None] + log_probs  # [N, V]
        score, flat = tf.math.top_k(tf.reshape(total, [batch, beam * vocab]), k=k)  # [B, k]
        return score, flat // vocab, flat % vocab
    blocks = -(-vocab // block)  # per row; a partial last block is padded with -inf (never chosen
    if blocks * block != vocab:  # while an example has k finite totals; ids are clamped below)
        log_probs = tf.pad(log_probs, [[0, 0], [0, blocks * block - vocab]], constant_values=float("-inf"))
    parts = tf.reshape(log_probs, [batch, beam * blocks, block])  # [B, K * blocks, block]
    row_score = tf.repeat(alive_score, blocks, axis=1)  # [B, K * blocks]
    maxima = tf.reduce_max(parts, axis=-1) + row_score  # [B, K * blocks]: each block's best total
    _, chosen = tf.math.top_k(maxima, k=k)
    chosen = tf.sort(chosen, axis=-1)  # [B, k] in row-major order: ties then fall as over the whole row
    cand = tf.gather(parts, chosen, batch_dims=1) + tf.gather(row_score, chosen, batch_dims=1)[:, :, None]
    score, pos = tf.math.top_k(tf.reshape(cand, [batch, k * block]), k=k)  # [B, k]
    picked = tf.gather(chosen, pos // block, batch_dims=1)  # [B, k] block numbers
    token = tf.minimum((picked % blocks) * block + pos % block, vocab - 1)
    return score, picked // blocks, token


def _rank_key(scores, unfinished, has_unk):
    """Sort key: finished before unfinished, UNK-free before UNK, then score (-inf stays -inf)."""
    return (scores - _UNK_PENALTY * tf.cast(has_unk, scores.dtype)
            - _UNFINISHED_PENALTY * tf.cast(unfinished, scores.dtype))


def _write_token(seqs, tokens, t):
    """seqs [B, K, L] with column t set to tokens [B, K]."""
    column = tf.equal(tf.range(tf.shape(seqs)[-1]), t)  # [L]
    return tf.where(column[None, None, :], tokens[:, :, None], seqs)


def beam_search(step_fn, initial_state, batch_size, beam_size, max_len, *, start_id, eos_id, forbidden_ids, unk_id,
                top_k=None, min_len=0):
    """Beam search over `step_fn`.

    Args:
      step_fn: callable (ids int32 [N], state) -> (log_probs float32 [N, V], new_state); V static.
      initial_state: nest of tensors with leading dimension batch_size (tiled to N here).
      batch_size: int or scalar int32 tensor B.
      beam_size: int (static) beam width K.
      max_len: int, scalar or int32 [B] tensor: decoding steps (tokens including EOS), per example
        when a vector (an example stops growing at its own limit; results as if decoded alone).
      start_id: int, first input id (GO). The token ids are the model's, passed in (keyword only).
      eos_id: int, the id that ends a hypothesis.
      forbidden_ids: ids never generated (ECM: PAD and UNK, as the original code).
      top_k: int <= beam_size, results returned per example (default beam_size).
      unk_id: int, id ranked last when allowed (candidates holding it come after UNK-free ones).
      min_len: int, EOS is not produced before this many tokens (0: at once; 1: no empty response).

    Returns:
      ids: int32 [B, top_k, L], L = max(max_len), EOS included, PAD (0) after it.
      scores: float32 [B, top_k], cumulative log-probability (-inf for an empty slot, which happens
        only when fewer than top_k sequences exist).
      lengths: int32 [B, top_k], tokens including EOS (max_len for an unfinished hypothesis).
    """
    beam = int(beam_size)
    top_k = beam if top_k is None else int(top_k)
    if not 0 < top_k <= beam:
        raise ValueError(f"top_k={top_k} must be in 1..beam_size={beam}")
    batch = tf.convert_to_tensor(batch_size, tf.int32)
    max_lens = tf.broadcast_to(tf.convert_to_tensor(max_len, tf.int32), [batch])  # [B]
    max_len = tf.reduce_max(max_lens)
    neg_inf = tf.constant(float("-inf"))

    state = tile_beam(initial_state, beam)
    # Only beam 0 is live at the start, so the K identical beams do not yield K copies.
    alive_score = tf.tile(tf.concat([[0.0], tf.fill([beam - 1], neg_inf)], 0)[None], [batch, 1])  # [B, K]
    alive_seq = tf.zeros([batch, beam, max_len], tf.int32)  # [B, K, L]
    alive_unk = tf.zeros([batch, beam], tf.bool)
    fin_seq = tf.zeros([batch, beam, max_len], tf.int32)
    fin_score = tf.fill([batch, beam], neg_inf)
    fin_len = tf.zeros([batch, beam], tf.int32)
    fin_unk = tf.zeros([batch, beam], tf.bool)
    prev_ids = tf.fill([batch * beam], tf.cast(start_id, tf.int32))  # [N]
    # Ids set to -inf at each step (EOS only while t < min_len): row, id pairs [N * len(banned), 2].
    banned = list(dict.fromkeys(list(forbidden_ids) + ([eos_id] if min_len > 0 else [])))
    banned_at = tf.reshape(tf.stack(tf.meshgrid(tf.range(batch * beam), tf.constant(banned, tf.int32),
                                                indexing="ij"), -1), [-1, 2])

    def cond(t, alive_score, alive_seq, alive_unk, fin_seq, fin_score, fin_len, fin_unk, prev_ids, state):
        # Exact early stop: all K result slots hold UNK-free finished candidates and the best alive
        # hypothesis already scores below the worst of them.
        worst_fin = tf.reduce_min(fin_score - _UNK_PENALTY * tf.cast(fin_unk, tf.float32), axis=1)  # [B]
        best_alive = tf.reduce_max(alive_score, axis=1)  # [B]
        done = tf.reduce_all(tf.logical_or(best_alive < worst_fin, t >= max_lens))
        return tf.logical_and(t < max_len, tf.logical_not(done))

    def body(t, alive_score, alive_seq, alive_unk, fin_seq, fin_score, fin_len, fin_unk, prev_ids, state):
        log_probs, new_state = step_fn(prev_ids, state)  # [N, V]
        if banned:  # forbidden ids, and EOS before min_len tokens (min_len=1: no empty response)
            updates = [tf.where(t < min_len, neg_inf, log_probs[:, i]) if i not in forbidden_ids else
                       tf.fill([batch * beam], neg_inf) for i in banned]
            log_probs = tf.tensor_scatter_nd_update(log_probs, banned_at, tf.reshape(tf.stack(updates, 1), [-1]))
        # The best 2K of alive score + log-prob over the K x V continuations of each example.
        cand_score, parent, token = best_continuations(log_probs, alive_score, 2 * beam)  # [B, 2K]
        active = (t < max_lens)[:, None]  # [B, 1]: examples past their own limit take nothing new
        cand_score = tf.where(active, cand_score, neg_inf)
        cand_seq = _write_token(tf.gather(alive_seq, parent, batch_dims=1), token, t)  # [B, 2K, L]
        cand_unk = tf.logical_or(tf.gather(alive_unk, parent, batch_dims=1), tf.equal(token, unk_id))
        is_eos = tf.equal(token, eos_id)

        # Finished: merge the EOS candidates into the K result slots.
        pool_score = tf.concat([fin_score, tf.where(is_eos, cand_score, neg_inf)], 1)  # [B, 3K]
        pool_unk = tf.concat([fin_unk, cand_unk], 1)
        pool_len = tf.concat([fin_len, tf.fill(tf.shape(cand_score), t + 1)], 1)
        pool_seq = tf.concat([fin_seq, cand_seq], 1)
        _, keep = tf.math.top_k(_rank_key(pool_score, False, pool_unk), k=beam)  # [B, K]
        fin_score = tf.gather(pool_score, keep, batch_dims=1)
        fin_unk = tf.gather(pool_unk, keep, batch_dims=1)
        fin_len = tf.gather(pool_len, keep, batch_dims=1)
        fin_seq = tf.gather(pool_seq, keep, batch_dims=1)

        # Alive: the best K candidates that did not end.
        new_score, pick = tf.math.top_k(tf.where(is_eos, neg_inf, cand_score), k=beam)  # [B, K]
        alive_score = tf.where(active, new_score, alive_score)
        alive_seq = tf.where(active[:, :, None], tf.gather(cand_seq, pick, batch_dims=1), alive_seq)
        alive_unk = tf.where(active, tf.gather(cand_unk, pick, batch_dims=1), alive_unk)
        new_parent = tf.gather(parent, pick, batch_dims=1)
        prev_ids = tf.reshape(tf.gather(token, pick, batch_dims=1), [-1])
        state = tf.nest.map_structure(lambda s: _gather_beams(s, new_parent, batch, beam), new_state)
        return t + 1, alive_score, alive_seq, alive_unk, fin_seq, fin_score, fin_len, fin_unk, prev_ids, state

    loop_vars = (tf.constant(0), alive_score, alive_seq, alive_unk, fin_seq, fin_score, fin_len, fin_unk,
                 prev_ids, state)
    t, alive_score, alive_seq, alive_unk, fin_seq, fin_score, fin_len, fin_unk, _, _ = tf.while_loop(
        cond, body, loop_vars)

    # Fallback: hypotheses that reached max_len without EOS rank below every finished one.
    pool_score = tf.concat([fin_score, alive_score], 1)  # [B, 2K]
    unfinished = tf.concat([tf.zeros_like(fin_unk), tf.ones_like(alive_unk)], 1)
    pool_unk = tf.concat([fin_unk, alive_unk], 1)
    pool_len = tf.concat([fin_len, tf.tile(tf.minimum(t, max_lens)[:, None], [1, beam])], 1)
    pool_seq = tf.concat([fin_seq, alive_seq], 1)
    _, best = tf.math.top_k(_rank_key(pool_score, unfinished, pool_unk), k=top_k)  # [B, top_k]
    scores = tf.gather(pool_score, best, batch_dims=1)
    valid = tf.math.is_finite(scores)
    lengths = tf.where(valid, tf.gather(pool_len, best, batch_dims=1), 0)
    ids = tf.where(valid[:, :, None], tf.gather(pool_seq, best, batch_dims=1), FILL_ID)
    return ids, scores, lengths
