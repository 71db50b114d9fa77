"""The ECM/Seq2Seq encoder: a stack of GRU layers over the post embeddings."""

import keras
import tensorflow as tf
from keras import ops

from ecm_tf.layers.gru_cell import GateBias



class GRUEncoder(keras.layers.Layer):
    """Multi-layer unidirectional GRU encoder (ECM Sec. 3.1; 2 x 256 in the paper).

    input_mode:
      - "paper": the post in natural order; padding positions are masked, so each layer's final
        state is its state after the last real token (it initialises the matching decoder layer);
      - "reversed": the post reversed within its length, padding masked (this package's earlier
        reading of the original);
      - "code": the original release (seq2seq_model.py:246-248 `reversed(encoder_input +
        encoder_pad)`, seq2seq.py embedding_attention_seq2seq runs the encoder with no sequence
        length): the row [x_1 .. x_L, PAD ...] padded to the bucket width T is reversed whole into
        [PAD ... x_L .. x_1] and the GRU runs over every position, PAD embeddings first; the
        outputs at PAD positions are GRU states like any other (attention sees them) and the final
        state is the one after x_1.
    cell:
      - "paper": Keras GRU (reset gate applied after the recurrent matmul, zero biases);
      - "code": TF 0.12 GRUCell semantics: reset applied before the matmul (reset_after=False)
        and reset/update gate biases initialised to 1.0 (rnn_cell.py:193-199).

    On a GPU, Keras runs a "paper" GRU (tanh/sigmoid, reset after, no mask) as one cuDNN kernel;
    cuDNN has no XLA kernel, so a model trained inside an XLA-compiled step is built with `use_cudnn=False` (the same weights run either way: Keras converts them to cuDNN's layout).

    Args:
      units: int, GRU size H.
      num_layers: int, stacked layers.
      input_mode: str, "paper", "reversed" or "code" (--encoder_input, models/ecm/settings.py).
      cell: str, "paper" or "code" (--gru_cell).
      use_cudnn: "auto" (cuDNN where Keras can use it) or False (never: inside XLA).
    """

    def __init__(self, units, num_layers=2, input_mode="paper", cell="paper", use_cudnn="auto", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.num_layers = num_layers
        self.input_mode = input_mode
        self.cell = cell
        self.use_cudnn = use_cudnn
        self.rnns = []
        for i in range(num_layers):
            if cell == "code":
                # Keras gate order [z, r, h]: the two gates at 1.0, the candidate at 0.
                rnn = keras.layers.GRU(units, return_sequences=True, return_state=True, reset_after=False,
                                       bias_initializer=GateBias(2 * units, units, 1.0), use_cudnn=use_cudnn,
                                       name=f"gru_{i}")
            else:
                rnn = keras.layers.GRU(units, return_sequences=True, return_state=True, use_cudnn=use_cudnn,
                                       name=f"gru_{i}")
            setattr(self, f"gru_{i}", rnn)  # an attribute per layer: tf.train.Checkpoint skips list items
            self.rnns.append(rnn)

    def positions_mask(self, width, lengths):
        """[B, T] float, 1 at the positions that hold a real token of the encoder input."""
        pos = ops.arange(width)[None, :]  # [1, T]
        if self.input_mode == "code":
            return ops.cast(pos >= width - lengths[:, None], "float32")  # PADs come first
        return ops.cast(pos < lengths[:, None], "float32")

    def build(self, embedded_shape, lengths_shape=None):
        """The GRU stack for embedded [B, T, E]."""
        shape = tuple(embedded_shape)
        for rnn in self.rnns:
            rnn.build(shape)
            shape = shape[:-1] + (self.units,)

    def call(self, embedded, lengths):
        """embedded [B, T, E] (right-padded), lengths [B] -> (outputs [B, T, H], final states [B, L, H])."""
        if self.input_mode == "code":
            x = tf.reverse(embedded, axis=[1])  # [B, T, E]: PAD ... x_L .. x_1
            finals = []
            for rnn in self.rnns:
                x, h = rnn(x)  # [B, T, H], [B, H]
                finals.append(h)
            return x, ops.stack(finals, axis=1)
        if self.input_mode == "reversed":
            embedded = tf.reverse_sequence(embedded, lengths, seq_axis=1, batch_axis=0)
        return self._run_right_padded(embedded, lengths)

    def _run_right_padded(self, x, lengths):
        """The stack over right-padded x [B, T, E] as a masked Keras GRU runs it, without the mask.

        A unidirectional GRU's outputs before a row's length do not depend on what follows, so the
        stack runs unmasked and each layer's final state is its output at the last real token (0
        for an empty row, the initial state); past the length the outputs repeat that state, as a
        masked Keras GRU returns them. Bit for bit the masked result, but no bool mask reaches
        Keras: its RNN transposes one, and oneDNN logs an E0000 line for a DT_BOOL transpose.
        """
        real = (ops.arange(ops.shape(x)[1])[None, :] < lengths[:, None])[:, :, None]  # [B, T, 1] bool
        last = tf.maximum(lengths - 1, 0)  # [B]
        finals = []
        for rnn in self.rnns:
            x, _ = rnn(x)  # [B, T, H]
            h = tf.gather(x, last, axis=1, batch_dims=1)  # [B, H]
            h = tf.where((lengths > 0)[:, None], h, tf.zeros_like(h))
            x = tf.where(real, x, h[:, None, :])  # [B, T, H]: the final state past the length
            finals.append(h)
        return x, ops.stack(finals, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, num_layers=self.num_layers, input_mode=self.input_mode, cell=self.cell,
                      use_cudnn=self.use_cudnn)
        return config
