"""Token + position + segment embeddings of CERG (BERT-style input representation)."""

import keras
import tensorflow as tf


class CergEmbeddings(keras.layers.Layer):
    """Sum of the token, position and segment embeddings, then dropout (pre-LN blocks follow).

    Positions count real tokens only (position = number of non-PAD tokens before), so a layout
    padded in the middle ([emotion][post + PAD][SEP][response + PAD]) gives every real token the
    position it has in the packed sequence.

    Args:
      vocab_size: int, joint character vocabulary size V.
      hidden: int, model width H.
      max_positions: int, longest sequence.
      num_segments: int, segment types (2: source, response).
      dropout: float, dropout rate on the sum.

    Call args:
      token_ids: int [B, L]; segment_ids: int [B, L]; training: bool.

    Returns:
      float [B, L, H].
    """

    def __init__(self, vocab_size, hidden, max_positions, num_segments=2, dropout=0.1, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.max_positions = max_positions
        self.num_segments = num_segments
        self.dropout_rate = dropout
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.token = keras.layers.Embedding(vocab_size, hidden, embeddings_initializer=init, name="token")
        self.position = keras.layers.Embedding(max_positions, hidden, embeddings_initializer=init, name="position")
        self.segment = keras.layers.Embedding(num_segments, hidden, embeddings_initializer=init, name="segment")
        self.dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self.token.build((None,))
        self.position.build((None,))
        self.segment.build((None,))
        super().build(input_shape)

    @property
    def token_table(self):
        """The token embedding matrix [V, H] (tied to the output layer)."""
        return self.token.embeddings

    def call(self, token_ids, segment_ids, training=False):
        real = tf.cast(tf.not_equal(token_ids, 0), tf.int32)  # [B, L]
        positions = tf.maximum(tf.cumsum(real, axis=1) - 1, 0)  # [B, L]
        x = self.token(token_ids) + self.position(positions) + self.segment(segment_ids)  # [B, L, H]
        return self.dropout(x, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, hidden=self.hidden, max_positions=self.max_positions,
                      num_segments=self.num_segments, dropout=self.dropout_rate)
        return config
