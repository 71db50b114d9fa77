"""The training loss's logsumexp over the response vocabulary, fused into one pass each way.

Under a mixed bfloat16 policy the output layer's matmuls are fast (oneDNN's bf16 kernels, AMX where
the CPU has it), and the elementwise work on the [B, T, V] logits around them dominates: the bias,
the cast to float32, the part mask, the logsumexp's passes and their gradients each read and write
the whole tensor (V = 40,000: 100M entries per batch). Here the forward (bias + cast + mask +
logsumexp) and the backward (softmax within the part times the upstream gradient) are each one
XLA-compiled function, so each reads the [B, T, V] tensor once. The matmuls
stay outside XLA: XLA's CPU backend runs bfloat16 dots no faster than float32.

`part_logsumexp` equals `reduce_logsumexp(where(in_part, logits + bias, -1e9))` in float32, where
`in_part[b, t, v]` says that word v is in the same part (emotion words or generic words of example
b's emotion) as the target at [b, t]; with no emotion mask the part is the whole vocabulary.
"""

import tensorflow as tf

_NEG = -1e9


def _masked(logits, bias, is_emo, target_is_emo):
    """float32 logits + bias [B, T, V], with the words outside each target's part at -1e9."""
    x = tf.cast(logits, tf.float32) + tf.cast(bias, tf.float32)  # [B, T, V]
    if is_emo is None:
        return x
    in_part = tf.equal(is_emo, target_is_emo[..., None])  # [B, 1, V] vs [B, T, 1] -> [B, T, V]
    return tf.where(in_part, x, _NEG)


@tf.function(jit_compile=True)
def _forward(logits, bias, is_emo, target_is_emo):
    """(lse [B, T] float32, e = exp(x - max) [B, T, V] in the logits' dtype, sum of e [B, T])."""
    x = _masked(logits, bias, is_emo, target_is_emo)  # [B, T, V]
    top = tf.reduce_max(x, axis=-1, keepdims=True)  # [B, T, 1]
    e = tf.exp(x - top)  # [B, T, V], 0 outside the part
    total = tf.reduce_sum(e, axis=-1)  # [B, T], >= 1 (the max's own term)
    return tf.math.log(total) + top[..., 0], tf.cast(e, logits.dtype), total


@tf.function(jit_compile=True)
def _logits_gradient(e, total, upstream):
    """d lse / d logits times the upstream gradient: the softmax within the part, e / total."""
    return e * tf.cast((upstream / total)[..., None], e.dtype)  # [B, T, V]


def part_logsumexp(logits, bias, is_emo=None, target_is_emo=None):
    """logits [B, T, V] (any float dtype), bias [V]; is_emo bool [B, 1, V] (each example's emotion
    words) and target_is_emo bool [B, T], or both None. Returns the float32 logsumexp [B, T] over each
    target's part; differentiable in logits and bias.

    The forward keeps e = exp(x - max) in the logits' dtype for the backward, which then only scales
    it (no second exp pass; the logits themselves are not kept). The bias gradient, a sum over the
    B x T rows, is a [1, BT] x [BT, V] matmul: XLA's CPU column reductions are several times slower.
    """

    @tf.custom_gradient
    def lse_of(logits, bias):
        lse, e, total = _forward(logits, bias, is_emo, target_is_emo)

        def grad(upstream):
            d_logits = _logits_gradient(e, total, upstream)  # [B, T, V]
            rows = tf.reshape(d_logits, [-1, tf.shape(d_logits)[-1]])  # [BT, V]
            d_bias = tf.matmul(tf.ones([1, tf.shape(rows)[0]], rows.dtype), rows)[0]  # [V]
            return d_logits, tf.cast(d_bias, bias.dtype)

        return lse, grad

    # Tensors, not variables: the gradient is taken for the tensors, and flows on to whatever they were read from.
    return lse_of(tf.convert_to_tensor(logits), tf.convert_to_tensor(bias))
