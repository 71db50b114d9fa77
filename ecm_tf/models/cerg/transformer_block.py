"""Pre-LayerNorm transformer block (Xiong et al. 2020), as used by CERG."""

import keras
import tensorflow as tf


class PreLNTransformerBlock(keras.layers.Layer):
    """x + MHA(LN(x), mask), then x + FFN(LN(x)); FFN = Dense(4H, gelu) -> Dense(H).

    Args:
      hidden: int, width H.
      heads: int, attention heads (H divisible by heads).
      ffn_mult: int, FFN inner size = ffn_mult * H.
      dropout: float, dropout on attention probabilities and on both residual branches.

    Call args:
      x: float [B, L, H]; mask: bool [B, L, L] (query, key); training: bool.

    Returns:
      float [B, L, H].
    """

    def __init__(self, hidden, heads, ffn_mult=4, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        if hidden % heads:
            raise ValueError(f"hidden={hidden} is not divisible by heads={heads}")
        self.hidden = hidden
        self.heads = heads
        self.ffn_mult = ffn_mult
        self.dropout_rate = dropout
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.ln_attention = keras.layers.LayerNormalization(epsilon=1e-6, name="ln_attention")
        self.attention = keras.layers.MultiHeadAttention(
            heads, hidden // heads, dropout=dropout, kernel_initializer=init, name="attention")
        self.ln_ffn = keras.layers.LayerNormalization(epsilon=1e-6, name="ln_ffn")
        self.ffn_in = keras.layers.Dense(ffn_mult * hidden, activation="gelu", kernel_initializer=init, name="ffn_in")
        self.ffn_out = keras.layers.Dense(hidden, kernel_initializer=init, name="ffn_out")
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.ln_attention.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ln_ffn.build(input_shape)
        self.ffn_in.build(input_shape)
        self.ffn_out.build(tuple(input_shape[:-1]) + (self.ffn_mult * self.hidden,))
        super().build(input_shape)

    def call(self, x, mask, training=False):
        h = self.ln_attention(x)  # [B, L, H]
        h = self.attention(h, h, attention_mask=mask, training=training)  # [B, L, H]
        x = x + self.drop(h, training=training)
        h = self.ffn_out(self.ffn_in(self.ln_ffn(x)))  # [B, L, H]
        return x + self.drop(h, training=training)

    # --- incremental decoding: the keys and values of earlier positions are cached ------------
    # These reuse the projections of keras.layers.MultiHeadAttention (_query_dense, _key_dense,
    # _value_dense, _compute_attention, _output_dense: what its `call` runs), so a cached step
    # computes exactly what `call` computes for that position (tests/test_cerg_mask.py).
    def keys_values(self, x):
        """Keys and values of positions x [B, S, H] (block input) -> (k, v), each [B, S, heads, H/heads]."""
        h = self.ln_attention(x)
        return self.attention._key_dense(h), self.attention._value_dense(h)

    def cached_step(self, x, k, v, at, key_mask):
        """One new position per row through the block.

        Args:
          x: float [N, 1, H], the block input at the new position.
          k, v: float [N, L, heads, H/heads], keys and values of the earlier positions.
          at: bool [N, L], the new position (its key and value are written there).
          key_mask: bool [N, L], the keys it may attend (itself included).

        Returns:
          (block output [N, 1, H], k, v with the new position written).
        """
        att = self.attention
        h = self.ln_attention(x)  # [N, 1, H]
        k = tf.where(at[:, :, None, None], att._key_dense(h), k)  # [N, L, heads, dh]
        v = tf.where(at[:, :, None, None], att._value_dense(h), v)
        out, _ = att._compute_attention(att._query_dense(h), k, v, key_mask[:, None, :], training=False)
        x = x + att._output_dense(out)  # [N, 1, H]
        return x + self.ffn_out(self.ffn_in(self.ln_ffn(x))), k, v

    def get_config(self):
        config = super().get_config()
        config.update(hidden=self.hidden, heads=self.heads, ffn_mult=self.ffn_mult, dropout=self.dropout_rate)
        return config
