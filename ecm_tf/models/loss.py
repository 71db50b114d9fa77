"""ECM training loss (Eq. 15): token NLL + type-selector supervision + internal-memory norm."""

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


def ecm_loss(outputs, batch, cfg):
    """Loss parts of one batch.

    Args:
      outputs: dict from ECMModel.call: target_log_probs [B, T], selector_logits [B, T] or None,
        imemory [B, T, H] or None.
      batch: dict with response [B, T], response_len [B], emotion_word [B, T].
      cfg: Config (selector_loss, selector_loss_weight, imemory_norm, imemory_loss_weight,
        imemory_decay_padding).

    Returns:
      dict of scalars loss, nll, selector, imemory, ppl (= exp(nll)), alpha_mean, tokens, and
      per-example example_nll [B] (summed over tokens) and example_tokens [B].
    """
    tlp = outputs["target_log_probs"]  # [B, T]
    w = sequence_mask(batch["response_len"], tf.shape(tlp)[1])  # [B, T]
    tokens = tf.reduce_sum(w)
    denom = tf.maximum(tokens, 1.0)
    example_nll = -tf.reduce_sum(w * tlp, axis=1)  # [B]
    nll = tf.reduce_sum(example_nll) / denom
    zero = tf.zeros([], tf.float32)
    selector, alpha_mean = zero, zero
    a = outputs.get("selector_logits")
    if a is not None:
        q = tf.cast(batch["emotion_word"], tf.float32)  # [B, T]
        per_token = q * tf.math.log_sigmoid(a)
        if cfg.selector_loss == "bce":
            per_token += (1.0 - q) * tf.math.log_sigmoid(-a)
        selector = -tf.reduce_sum(w * per_token) / denom
        alpha_mean = tf.reduce_sum(w * tf.sigmoid(a)) / denom
    imemory = zero
    m = outputs.get("imemory")
    if m is not None:
        m_end = final_memory(m, batch["response_len"], cfg.imemory_decay_padding)  # [B, H]
        sq = tf.reduce_sum(tf.square(m_end), axis=-1)  # [B]
        per_example = sq if cfg.imemory_norm == "squared" else tf.sqrt(sq + 1e-12)
        imemory = tf.reduce_mean(per_example)
    loss = nll + cfg.selector_loss_weight * selector + cfg.imemory_loss_weight * imemory
    return {
        "loss": loss, "nll": nll, "selector": selector, "imemory": imemory, "ppl": tf.exp(nll),
        "alpha_mean": alpha_mean, "tokens": tokens,
        "example_nll": example_nll, "example_tokens": tf.reduce_sum(w, axis=1),
    }
