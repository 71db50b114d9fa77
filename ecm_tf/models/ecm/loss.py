"""ECM training loss (Eq. 15): token NLL + type-selector supervision + internal-memory norm.

Normalisation (`cfg.loss_average`):
  - "response" (default, the original release): each term is averaged over each response's
    target tokens, then over the batch (seq2seq.py `sequence_loss_by_example` with
    average_across_timesteps, then `sequence_loss` average_across_batch):
        nll = 1/B sum_b ( sum_t w_bt (-log p_bt) / sum_t w_bt )
  - "token": one average over every target token of the batch:
        nll = sum_bt w_bt (-log p_bt) / sum_bt w_bt
  Short responses weigh more under "response": 2 tokens at 1.0 nats and 10 at 3.0 give
  exp(nll) = exp((1 + 3) / 2) = 7.39 per response, exp(32 / 12) = 14.39 per token.
Both averages of the cross-entropy are always returned (nll_response, nll_token); `nll` and
`ppl` follow the setting, and `nll` (cross-entropy only) is what drives the plateau decay, as
the original's `step()` returns its perplexity term to baseline.py.
"""

import tensorflow as tf


def sequence_mask(lengths, max_len):
    """lengths [B] -> float mask [B, T] (1 on the first `lengths` positions)."""
    return tf.cast(tf.sequence_mask(lengths, max_len), tf.float32)


def final_memory(imemory, lengths, decay_padding):
    """imemory [B, T, H] (M after each step's write) -> M at the end [B, H].

    The paper's M is taken after the last real step (`lengths - 1`); with `decay_padding` (the
    original code) after the last padded step.
    """
    if decay_padding:
        return imemory[:, -1]
    last = tf.maximum(lengths - 1, 0)
    return tf.gather(imemory, last, axis=1, batch_dims=1)


def masked_averages(per_token, w):
    """per_token [B, T], w [B, T] 0/1 -> (response average, token average), scalars.

    The response average is the mean over responses with at least one token of each one's
    token mean; the token average divides the weighted sum by the number of tokens.
    """
    sums = tf.reduce_sum(w * per_token, axis=1)  # [B]
    counts = tf.reduce_sum(w, axis=1)  # [B]
    has = tf.cast(counts > 0, tf.float32)  # [B]
    per_response = sums / tf.maximum(counts, 1.0)  # [B]
    response = tf.reduce_sum(has * per_response) / tf.maximum(tf.reduce_sum(has), 1.0)
    token = tf.reduce_sum(sums) / tf.maximum(tf.reduce_sum(counts), 1.0)
    return response, token


def ecm_loss(outputs, batch, cfg):
    """Loss parts of one batch.

    Args:
      outputs: dict from ECMModel.call: target_log_probs [B, T], selector_logits [B, T] or None,
        imemory [B, T, H] or None.
      batch: dict with response [B, T], response_len [B], emotion_word [B, T].
      cfg: Config (loss_average, selector_loss, selector_loss_weight, imemory_norm,
        imemory_loss_weight, imemory_decay_padding).

    Returns:
      dict of scalars loss, nll (cross-entropy averaged as cfg.loss_average), nll_response,
      nll_token, selector, imemory, ppl (= exp(nll)), alpha_mean, tokens, and per-example
      example_nll [B] (summed over tokens) and example_tokens [B].
    """
    pick = (lambda r, t: r) if cfg.loss_average == "response" else (lambda r, t: t)
    tlp = outputs["target_log_probs"]  # [B, T]
    w = sequence_mask(batch["response_len"], tf.shape(tlp)[1])  # [B, T]
    tokens = tf.reduce_sum(w)
    example_nll = -tf.reduce_sum(w * tlp, axis=1)  # [B]
    nll_response, nll_token = masked_averages(-tlp, w)
    nll = pick(nll_response, nll_token)
    zero = tf.zeros([], tf.float32)
    selector, alpha_mean = zero, zero
    a = outputs.get("selector_logits")
    if a is not None:
        q = tf.cast(batch["emotion_word"], tf.float32)  # [B, T]
        per_token = q * tf.math.log_sigmoid(a)
        if cfg.selector_loss == "bce":
            per_token += (1.0 - q) * tf.math.log_sigmoid(-a)
        selector = pick(*masked_averages(-per_token, w))  # the original: sequence_loss over the gates
        alpha_mean = tf.reduce_sum(w * tf.sigmoid(a)) / tf.maximum(tokens, 1.0)
    imemory = zero
    m = outputs.get("imemory")
    if m is not None:
        m_end = final_memory(m, batch["response_len"], cfg.imemory_decay_padding)  # [B, H]
        sq = tf.reduce_sum(tf.square(m_end), axis=-1)  # [B]
        per_example = sq if cfg.imemory_norm == "squared" else tf.sqrt(sq + 1e-12)
        imemory = tf.reduce_mean(per_example)
    loss = nll + cfg.selector_loss_weight * selector + cfg.imemory_loss_weight * imemory
    return {
        "loss": loss, "nll": nll, "nll_response": nll_response, "nll_token": nll_token,
        "selector": selector, "imemory": imemory, "ppl": tf.exp(nll),
        "alpha_mean": alpha_mean, "tokens": tokens,
        "example_nll": example_nll, "example_tokens": tf.reduce_sum(w, axis=1),
    }
