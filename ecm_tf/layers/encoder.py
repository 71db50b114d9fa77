"""The ECM/Seq2Seq encoder: a stack of GRU layers over the post embeddings."""

import keras
import tensorflow as tf
from keras import ops


class GRUEncoder(keras.layers.Layer):
    """Multi-layer unidirectional GRU encoder (ECM Sec. 3.1; 2 x 256 in the paper).

    Padding positions are masked, so each layer's final state is its state after the last real
    token; it initialises the matching decoder layer.

    Args:
      units: int, GRU size H.
      num_layers: int, stacked layers.
      reverse_input: bool, read each post backwards (the original code).
    """

    def __init__(self, units, num_layers=2, reverse_input=False, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_layers = num_layers
        self.reverse_input = reverse_input
        self.rnns = []
        for i in range(num_layers):
            rnn = keras.layers.GRU(units, return_sequences=True, return_state=True, name=f"gru_{i}")
            setattr(self, f"gru_{i}", rnn)  # an attribute per layer: tf.train.Checkpoint skips list items
            self.rnns.append(rnn)

    def call(self, embedded, lengths):
        """embedded [B, T, E], lengths [B] -> (outputs [B, T, H], final states [B, L, H])."""
        if self.reverse_input:
            embedded = tf.reverse_sequence(embedded, lengths, seq_axis=1, batch_axis=0)
        mask = ops.arange(ops.shape(embedded)[1])[None, :] < lengths[:, None]  # [B, T]
        x = embedded
        finals = []
        for rnn in self.rnns:
            x, h = rnn(x, mask=mask)  # [B, T, H], [B, H]
            finals.append(h)
        return x, ops.stack(finals, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, num_layers=self.num_layers, reverse_input=self.reverse_input)
        return config
