"""ECM's decoder step as a Keras RNN cell: attention with input feeding, Emb, internal memory, GRU stack."""

import keras
from keras import ops

from ecm_tf.layers.attention import BahdanauAttention
from ecm_tf.layers.gru_cell import SideInputGRUCell
from ecm_tf.layers.internal_memory import InternalMemory
from ecm_tf.layers.precision import STATE_DTYPE


class BoundMemory:
    """What the cell attends to and conditions on, bound before the recurrence (`ECMCell.bind`):
    values [B, Tp, D], keys [B, Tp, A] (None until computed), mask [B, Tp] (1 = real token),
    emotion [B] int or None, emotion_vector [B, Demo] or None."""

    def __init__(self, values, keys, mask, emotion, emotion_vector):
        self.values, self.keys, self.mask = values, keys, mask
        self.emotion, self.emotion_vector = emotion, emotion_vector


class ECMCell(keras.layers.Layer):
    """One ECM decoder step, input feeding, Emb (Eq. 5) and internal memory (Eq. 6-10), as a Keras RNN cell.

    At step t, with c the attention context computed from s_t-1 (the paper's c_t; the original
    code's "previous attention" fed as input):
        x       = [e(y_t-1); c]                                   input feeding
        g_r     = sigmoid(W_r [e(y_t-1); s_t-1; c])               Eq. 6 (code: [x; v_e; s1; s2])
        M_r     = g_r * M_e                                       Eq. 8
        s_t     = GRU(s_t-1, [x; v_e; M_r])                       Eq. 5, 10 (v_e: layer 0 only;
                                                                  M_r: all layers, code: layer 0)
        g_w     = sigmoid(W_w s_t)                                Eq. 7 (code: [s1; s2])
        M_e     <- g_w * M_e                                      Eq. 9
        c'      = attention(query = [s1_t; ...; sL_t])
        o_t     = s_L,t                                           Eq. 4: softmax(W_o s_t) (paper)
        o_t     = W_p [s_L,t; c'] + b_p                           the original's AttnOutputProjection
                                                                  (output_features="projection")

    The encoder memory is bound to the cell before the recurrence (`bind`), as tensorflow/nmt's
    AttentionWrapper holds its attention mechanism's memory (Keras 3's RNN has no `constants=`).
    The Keras RNN cell contract:
      state_size       L*H + D (+ H): one vector [s_1; ...; s_L; c; M_e] per example (M_e with use_imemory).
      output_size      the same: the output is the new state, as Keras's GRUCell's. `readout` splits
                       it into s_L, c' and M_e, and `output_features` computes o_t from them once for
                       all steps, outside the recurrence (one large matmul instead of T small ones).
      get_initial_state(batch_size)  zero GRU states, their context, M_e,0 = M[emotion].
      initial_state(encoder_final)   the same from the encoder's final states [B, L, H] (ECM).
      call(inputs [B, E], states) -> (new state [B, state_size], [new state]).
    Plain Keras (docs/model.md):
        cell = ECMCell(units=256, num_layers=2, emotion_dim=100)
        cell.bind(values=encoder_outputs, mask=post_mask, emotion=emotion, emotion_vector=v_e)
        outputs = keras.layers.RNN(cell, return_sequences=True)(response_embeddings)  # [B, T, state_size]

    Under a mixed policy the cell is a float32 layer (its states stay float32,
    precision.STATE_DTYPE) and its sublayers run their matmuls in the policy's compute dtype.

    Args (keyword only):
      units: int, GRU size H.
      num_layers: int, GRU layers L.
      num_emotions: int, emotion categories (rows of the internal memory).
      memory_dim: int, size D of the bound values (the encoder's units); default H.
      use_emb: bool, feed the bound emotion vector v_e; emotion_dim: int, its size.
      use_imemory: bool, use the internal memory.
      read_gate_inputs: "paper" or "code"; write_gate_inputs: "paper" or "code" (see above).
      imemory_layers: "all" or "first": GRU layers that receive M_r.
      gate_bias_init: float, initial read/write gate bias (with imemory_gate_bias).
      imemory_gate_bias: bool, the read/write gates have a bias (code; Eq. 6-7 have none).
      attention_mask_pad: bool, mask PAD encoder positions.
      attention_query_bias: bool, the attention's query projection has a bias (code).
      gru_gate_bias: float, initial reset/update gate bias of the GRU layers (code: 1.0).
      output_features: "state" (Eq. 4, o_t = s_t) or "projection" (the original, W_p [s_t; c']).
    """

    def __init__(self, *, units, num_layers=2, num_emotions=6, memory_dim=None, use_emb=True, emotion_dim=100,
                 use_imemory=True, read_gate_inputs="paper", write_gate_inputs="paper", imemory_layers="all",
                 gate_bias_init=0.0, imemory_gate_bias=False, attention_mask_pad=True, attention_query_bias=False,
                 gru_gate_bias=0.0, output_features="state", **kwargs):
        kwargs.setdefault("autocast", False)
        kwargs.setdefault("dtype", STATE_DTYPE)
        super().__init__(**kwargs)
        self.units = units
        self.num_layers = num_layers
        self.num_emotions = num_emotions
        self.memory_dim = memory_dim or units
        self.use_emb = use_emb
        self.emotion_dim = emotion_dim
        self.use_imemory = use_imemory
        self.read_gate_inputs = read_gate_inputs
        self.write_gate_inputs = write_gate_inputs
        self.imemory_layers = imemory_layers
        self.gate_bias_init = gate_bias_init
        self.imemory_gate_bias = imemory_gate_bias
        self.attention_mask_pad = attention_mask_pad
        self.attention_query_bias = attention_query_bias
        self.gru_gate_bias = gru_gate_bias
        self.output_features_mode = output_features
        # Sublayers in this order: their initializers draw their seeds when constructed.
        self.attention = BahdanauAttention(units, mask_pad=attention_mask_pad, query_bias=attention_query_bias,
                                           name="attention")
        self.grus = []
        for i in range(num_layers):
            gru = SideInputGRUCell(units, side_input=self._side_size(i) > 0, gate_bias=gru_gate_bias, name=f"gru_{i}")
            setattr(self, f"gru_{i}", gru)  # an attribute per layer: tf.train.Checkpoint skips list items
            self.grus.append(gru)
        if use_imemory:
            self.imemory = InternalMemory(num_emotions, units, gate_bias_init, use_bias=imemory_gate_bias,
                                          name="internal_memory")
        if output_features == "projection":
            self.output_projection = keras.layers.Dense(units, name="output_projection")
        self._bound = None

    # --- the Keras RNN cell contract -----------------------------------------------------------
    @property
    def state_size(self):
        """One vector per example: [s_1; ...; s_L; c; M_e] (M_e with use_imemory)."""
        return self.num_layers * self.units + self.memory_dim + (self.units if self.use_imemory else 0)

    @property
    def output_size(self):
        return self.state_size  # the output is the new state, as Keras's GRUCell's

    def _side_size(self, i):
        """Width of GRU layer i's side input: v_e (layer 0, Emb) and M_r (internal memory)."""
        emb = self.emotion_dim if self.use_emb and i == 0 else 0
        mem = self.units if self.use_imemory and (i == 0 or self.imemory_layers == "all") else 0
        return emb + mem

    def build(self, inputs_shape):
        """Every weight, from the step input's size E (inputs_shape [B, E]) and the constructor's sizes."""
        e, h, d = inputs_shape[-1], self.units, self.memory_dim
        self.attention.build((None, self.num_layers * h), values_shape=(None, None, d))
        x_dim = e + d  # [e(y); c]
        if self.use_imemory:  # M draws its initial values before the GRUs' kernels (as when built lazily)
            if self.read_gate_inputs == "paper":
                read_in = e + h + d  # [e(y); s_L; c]
            else:
                read_in = x_dim + (self.emotion_dim if self.use_emb else 0) + self.num_layers * h  # [x; v_e; s_1..L]
            write_in = h if self.write_gate_inputs == "paper" else self.num_layers * h
            self.imemory.build((None, read_in), (None, write_in))
        for i, gru in enumerate(self.grus):
            side = self._side_size(i)
            gru.build((None, x_dim if i == 0 else h), (None, h), (None, side) if side else None)
        if self.output_features_mode == "projection":
            self.output_projection.build((None, h + d))  # [s_L; c']

    def bind(self, values, mask=None, emotion=None, emotion_vector=None, keys=None):
        """Binds the encoder memory every following step attends to: values [B, Tp, D], mask [B, Tp]
        (default: all real), emotion [B] int (M_e,0 of the initial state), emotion_vector [B, Demo]
        (Emb) and keys [B, Tp, A] (the attention's key projection of values; computed here when None)."""
        if mask is None:
            mask = ops.ones(ops.shape(values)[:2], "float32")
        self._bound = BoundMemory(values, keys, mask, emotion, emotion_vector)
        if keys is None and self.built:
            self._bound.keys = self.attention.precompute(values)

    def _memory(self):
        if self._bound is None:
            raise ValueError("ECMCell: bind(values, ...) the encoder memory before the recurrence")
        if self._bound.keys is None:  # bound before the cell was built
            self._bound.keys = self.attention.precompute(self._bound.values)
        return self._bound

    def _attend(self, query):
        """query [B, L*H] = [s_1; ...; s_L] -> the attention context [B, D] over the bound memory."""
        memory = self._memory()
        context, _ = self.attention(query, memory.keys, memory.values, memory.mask)
        return context

    def initial_state(self, encoder_final):
        """encoder_final [B, L, H] (the encoder's final states) -> the state [B, state_size]."""
        h = ops.reshape(ops.cast(encoder_final, STATE_DTYPE), (-1, self.num_layers * self.units))  # [B, L*H]
        state = [h, self._attend(h)]
        if self.use_imemory:
            state.append(self.imemory.initial(self._memory().emotion))  # M_e,0 [B, H]
        return ops.concatenate(state, axis=-1)

    def get_initial_state(self, batch_size):
        """Zero GRU states (no encoder), their attention context and M_e,0 of the bound emotion."""
        return self.initial_state(ops.zeros((batch_size, self.num_layers, self.units), STATE_DTYPE))

    def call(self, inputs, states):
        """inputs [B, E] = e(y_t-1); states: [state [B, state_size]] (a list, as Keras's RNN passes it).

        Returns (new state, [new state]): [s_1,t; ...; s_L,t; c'; M_e,t+1] [B, state_size].
        """
        memory = self._memory()
        num_h = self.num_layers * self.units
        state = states[0] if isinstance(states, (list, tuple)) else states
        h_prev = ops.reshape(state[:, :num_h], (-1, self.num_layers, self.units))  # [B, L, H]
        context = state[:, num_h:num_h + self.memory_dim]  # [B, D]
        inputs = ops.cast(inputs, STATE_DTYPE)  # [B, E] (a bfloat16 embedding under a mixed policy)
        x = ops.concatenate([inputs, context], axis=-1)  # [B, E + D]
        emb = [ops.cast(memory.emotion_vector, STATE_DTYPE)] if self.use_emb else []
        m_r = None
        if self.use_imemory:
            imemory = state[:, num_h + self.memory_dim:]  # [B, H]
            if self.read_gate_inputs == "paper":
                gate_in = [inputs, h_prev[:, -1], context]
            else:
                gate_in = [x] + emb + [h_prev[:, i] for i in range(self.num_layers)]
            m_r, _ = self.imemory.read(ops.concatenate(gate_in, axis=-1), imemory)  # [B, H]
        new_h = []
        layer_in = x
        for i, gru in enumerate(self.grus):
            side = []
            if i == 0:
                side += emb
            if m_r is not None and (i == 0 or self.imemory_layers == "all"):
                side.append(m_r)
            side = ops.concatenate(side, axis=-1) if side else None
            layer_in = gru(layer_in, h_prev[:, i], side)  # [B, H]
            new_h.append(layer_in)
        new_state = [ops.reshape(ops.stack(new_h, axis=1), (-1, num_h))]  # [B, L*H]
        if self.use_imemory:
            w_in = new_h[-1] if self.write_gate_inputs == "paper" else ops.concatenate(new_h, axis=-1)
            new_imemory = self.imemory.write(w_in, imemory)  # M_e,t+1 [B, H]
        new_state.append(self._attend(ops.concatenate(new_h, axis=-1)))  # c' [B, D]
        if self.use_imemory:
            new_state.append(new_imemory)
        new_state = ops.concatenate(new_state, axis=-1)  # [B, state_size]
        return new_state, [new_state]

    # --- reading the outputs outside the recurrence ----------------------------------------------
    def readout(self, outputs):
        """outputs (states) [..., state_size] -> (s_L [..., H], c' [..., D], M_e [..., H] or None)."""
        num_h, d = self.num_layers * self.units, self.memory_dim
        imemory = outputs[..., num_h + d:] if self.use_imemory else None
        return outputs[..., num_h - self.units:num_h], outputs[..., num_h:num_h + d], imemory

    def output_features(self, top, context):
        """o_t [..., H] from s_L [..., H] and c' [..., D] (any leading dims)."""
        if self.output_features_mode == "state":
            return top  # Eq. 4: the softmax reads s_t
        return self.output_projection(ops.concatenate([top, context], axis=-1))

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, num_layers=self.num_layers, num_emotions=self.num_emotions, memory_dim=self.memory_dim,
            use_emb=self.use_emb, emotion_dim=self.emotion_dim, use_imemory=self.use_imemory,
            read_gate_inputs=self.read_gate_inputs, write_gate_inputs=self.write_gate_inputs,
            imemory_layers=self.imemory_layers, gate_bias_init=self.gate_bias_init,
            imemory_gate_bias=self.imemory_gate_bias, attention_mask_pad=self.attention_mask_pad,
            attention_query_bias=self.attention_query_bias, gru_gate_bias=self.gru_gate_bias,
            output_features=self.output_features_mode)
        return config
