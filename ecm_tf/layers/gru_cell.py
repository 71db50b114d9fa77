"""A GRU cell with an optional side input (the emotion embedding and/or read internal memory)."""

import keras
from keras import ops


class SideInputGRUCell(keras.layers.Layer):
    """One GRU step, Cho et al. (2014), as in ECM Eq. 10, with a separate side-input kernel.

        r, z = sigmoid(x W_rz + side K_rz + h U_rz + b_rz)
        h~   = tanh(x W_h + side K_h + (r * h) U_h + b_h)
        h'   = z * h + (1 - z) * h~

    Feeding `side` through its own kernel equals concatenating it to `x`
    (ECM Eq. 10: s_t = GRU(s_t-1, [c_t; e(y_t-1); v_e; M_r])), but keeps `kernel` the same shape
    as a Seq2Seq model's, so Seq2Seq weights can initialise an ECM model. As in the original code,
    the side kernel is named `emotion_memory_kernel` and is never restored from Seq2Seq.

    The reset gate multiplies h before the matmul (r * h) U_h, as Cho et al. (2014) and the
    original's TF 0.12 GRUCell (rnn_cell.py:199 `_linear([inputs, r * state])`).

    Args:
      units: int, state size H.
      side_input: bool, whether `call` receives a side input.
      gate_bias: float, initial bias of the reset and update gates (the candidate's starts at 0):
        0 by default; 1.0 in code mode, as TF 0.12's GRUCell ("We start with bias of 1.0 to not
        reset and not update", rnn_cell.py:193-196 `_linear(..., True, 1.0)`).
    """

    def __init__(self, units, side_input=False, gate_bias=0.0, **kwargs):
        # The carry h stays in its own dtype (float32: a bfloat16 state would lose 8 bits a step);
        # under a mixed policy only the matmuls run in the compute dtype, so the inputs and kernels
        # are cast here by hand instead of by Keras's autocast (which would round h too).
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.units = units
        self.side_input = side_input
        self.gate_bias = float(gate_bias)

    def build(self, x_shape, h_shape=None, side_shape=None):
        h = self.units
        self.kernel = self.add_weight(name="kernel", shape=(x_shape[-1], 3 * h), initializer="glorot_uniform")
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(h, 3 * h), initializer="orthogonal")
        self.bias = self.add_weight(name="bias", shape=(3 * h,), initializer=GateBias(2 * h, h, self.gate_bias))
        if self.side_input:
            self.emotion_memory_kernel = self.add_weight(
                name="emotion_memory_kernel", shape=(side_shape[-1], 3 * h), initializer="glorot_uniform")

    def call(self, x, h, side=None):
        """x: [B, D]; h: [B, H]; side: [B, S] or None. Returns the new state [B, H] in h's dtype."""
        hs, cdt = self.units, self.compute_dtype
        w = lambda v: ops.cast(v, cdt)  # noqa: E731 (a no-op in float32)
        xw = ops.matmul(w(x), w(self.kernel)) + w(self.bias)  # [B, 3H]
        if self.side_input:
            xw = xw + ops.matmul(w(side), w(self.emotion_memory_kernel))
        h_c = w(h)  # [B, H]
        u = w(self.recurrent_kernel)  # [H, 3H]
        hu = ops.matmul(h_c, u[:, :2 * hs])  # [B, 2H]
        rz = ops.sigmoid(xw[:, :2 * hs] + hu)  # [B, 2H]
        r, z = rz[:, :hs], rz[:, hs:]
        cand = ops.tanh(xw[:, 2 * hs:] + ops.matmul(r * h_c, u[:, 2 * hs:]))  # [B, H]
        z, cand = ops.cast(z, h.dtype), ops.cast(cand, h.dtype)
        return z * h + (1.0 - z) * cand  # [B, H], the mix in the carry's dtype

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, side_input=self.side_input, gate_bias=self.gate_bias)
        return config


class GateBias(keras.initializers.Initializer):
    """A bias vector of `gates` entries at `value` followed by `rest` zeros ([r, z] then candidate)."""

    def __init__(self, gates, rest, value):
        self.gates, self.rest, self.value = int(gates), int(rest), float(value)

    def __call__(self, shape, dtype=None):
        if tuple(shape) != (self.gates + self.rest,):
            raise ValueError(f"GateBias for {self.gates} + {self.rest} entries, asked for shape {shape}")
        return ops.concatenate([ops.full((self.gates,), self.value, dtype=dtype),
                                ops.zeros((self.rest,), dtype=dtype)])

    def get_config(self):
        return {"gates": self.gates, "rest": self.rest, "value": self.value}
