"""ECM internal memory (Sec. 3.3): an emotion state that decays while the response is generated."""

import keras
from keras import ops

from ecm_tf.layers.precision import STATE_DTYPE


class InternalMemory(keras.layers.Layer):
    """Trainable per-emotion memory M (num_emotions x units) with read and write gates.

        g_r = sigmoid(W_g^r [e(y_t-1); s_t-1; c_t] (+ b))  (Eq. 6; read inputs chosen by the caller)
        g_w = sigmoid(W_g^w s_t (+ b))                       (Eq. 7)
        M_r = g_r * M_e,t                                    (Eq. 8)
        M_e,t+1 = g_w * M_e,t                                (Eq. 9)

    The paper's Eq. 6-7 have no bias (default); the original code's gates have one, initialised
    to 1.0 (`use_bias=True, gate_bias_init=1.0`).

    Args:
      num_emotions: int, number of emotion categories (6).
      units: int, memory size = decoder state size H.
      gate_bias_init: float, initial gate bias (with use_bias).
      use_bias: bool, the gates have a bias b.
    """

    def __init__(self, num_emotions, units, gate_bias_init=0.0, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.num_emotions = num_emotions
        self.units = units
        self.gate_bias_init = gate_bias_init
        self.use_bias = use_bias
        init = keras.initializers.Constant(gate_bias_init)
        self.read_gate = keras.layers.Dense(units, activation="sigmoid", use_bias=use_bias, bias_initializer=init,
                                            name="memory_read_gate")
        self.write_gate = keras.layers.Dense(units, activation="sigmoid", use_bias=use_bias, bias_initializer=init,
                                             name="memory_write_gate")

    def build(self, read_inputs_shape=None, write_inputs_shape=None):
        """M [num_emotions, H], and the gates when their input shapes are given (else on their first use)."""
        self.memory = self.add_weight(
            name="memory", shape=(self.num_emotions, self.units), initializer="glorot_uniform")
        if read_inputs_shape is not None:
            self.read_gate.build(read_inputs_shape)
        if write_inputs_shape is not None:
            self.write_gate.build(write_inputs_shape)

    def initial(self, emotion):
        """emotion [B] int -> M_e,0 [B, H]: each example's own emotion row."""
        if not self.built:
            self.build()
        return ops.cast(ops.take(self.memory, emotion, axis=0), STATE_DTYPE)  # [B, H], the state in float32

    def read(self, gate_inputs, memory):
        """gate_inputs [B, D], memory [B, H] -> (M_r [B, H], g_r [B, H]) (Eq. 6, 8)."""
        g_r = ops.cast(self.read_gate(gate_inputs), memory.dtype)  # the memory stays float32 under a mixed policy
        return g_r * memory, g_r

    def write(self, state, memory):
        """state [B, S], memory [B, H] -> M_e,t+1 [B, H] (Eq. 7, 9)."""
        return ops.cast(self.write_gate(state), memory.dtype) * memory

    def get_config(self):
        config = super().get_config()
        config.update(num_emotions=self.num_emotions, units=self.units, gate_bias_init=self.gate_bias_init,
                      use_bias=self.use_bias)
        return config
