"""Additive (Bahdanau) attention over the encoder outputs."""

import keras
from keras import ops

from ecm_tf.layers.precision import STATE_DTYPE


class BahdanauAttention(keras.layers.Layer):
    """c = sum_j a_j h_j, a = softmax_j(v^T tanh(W_k h_j + W_q q)) (ECM Sec. 3.1, Bahdanau et al. 2015).

    `keys` (W_k h) are computed once per post by `precompute`, then reused at every decoder step.

    Args:
      units: int, attention size A.
      mask_pad: bool, exclude PAD encoder positions (paper); the original code attends to them too.
      query_bias: bool, W_q q + b (the original: seq2seq.py attention() `linear(query, ..., True)`;
        its key projection AttnW and score vector AttnV have none, as here).
    """

    def __init__(self, units, mask_pad=True, query_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.mask_pad = mask_pad
        self.query_bias = query_bias
        self.key_dense = keras.layers.Dense(units, use_bias=False, name="attention_key")
        self.query_dense = keras.layers.Dense(units, use_bias=query_bias, name="query")
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, query_shape, keys_shape=None, values_shape=None, mask_shape=None):
        """query [B, Q] -> W_q; values [B, T, D] -> W_k (when given: `precompute` may build it first)."""
        self.query_dense.build(query_shape)
        self.score_dense.build((None, None, self.units))
        if values_shape is not None and not self.key_dense.built:
            self.key_dense.build(values_shape)

    def precompute(self, values):
        """values: [B, T, D] encoder outputs -> keys [B, T, A]."""
        return self.key_dense(values)

    def call(self, query, keys, values, mask):
        """query [B, Q], keys [B, T, A], values [B, T, D], mask [B, T] (1 = real token).

        Returns (context [B, D], weights [B, T]).
        """
        q = self.query_dense(query)[:, None, :]  # [B, 1, A]
        scores = ops.squeeze(self.score_dense(ops.tanh(keys + q)), -1)  # [B, T]
        # The softmax and the context in float32 under a mixed policy: the context is part of the
        # decoder's recurrent state (precision.STATE_DTYPE). A no-op in float32.
        scores = ops.cast(scores, STATE_DTYPE)
        if self.mask_pad:
            scores = ops.where(mask > 0, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)  # [B, T]
        context = ops.einsum("bt,btd->bd", weights, ops.cast(values, STATE_DTYPE))  # [B, D]
        return context, weights

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, mask_pad=self.mask_pad, query_bias=self.query_bias)
        return config
