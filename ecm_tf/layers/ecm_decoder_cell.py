"""One decoder step of the ECM family: attention, emotion embedding, internal memory, GRU stack."""

import keras
from keras import ops

from ecm_tf.layers.attention import BahdanauAttention
from ecm_tf.layers.gru_cell import SideInputGRUCell
from ecm_tf.layers.internal_memory import InternalMemory
from ecm_tf.layers.precision import STATE_DTYPE

OUTPUT_FEATURES = ("state", "projection")


class ECMDecoderCell(keras.layers.Layer):
    """Decoder step with input feeding, Emb (Eq. 5) and internal memory (Eq. 6-10).

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

    `call(inputs, states, memory)` returns the new states; it is driven by tf.scan in training and
    by the beam search at inference (Keras 3 RNN has no `constants=`). `output(states)` computes
    o_t from them: it is not part of the recurrence, so training applies it once to all steps
    after the scan (one large matmul instead of T small ones).

    Args:
      units: int, GRU size H.
      num_layers: int, decoder GRU layers.
      num_emotions: int, emotion categories (rows of the internal memory).
      use_emb: bool, feed the emotion embedding v_e (passed in `memory["emotion_vector"]`).
      use_imemory: bool, use the internal memory.
      read_gate_inputs: str, "paper" or "code" (see above).
      write_gate_inputs: str, "paper" or "code".
      imemory_layers: str, "all" or "first": GRU layers that receive M_r.
      gate_bias_init: float, initial read/write gate bias (with imemory_gate_bias).
      attention_mask_pad: bool, mask PAD encoder positions.
      gru_gate_bias: float, initial reset/update gate bias of the GRU layers (code: 1.0).
      attention_query_bias: bool, the attention's query projection has a bias (code).
      imemory_gate_bias: bool, the read/write gates have a bias (code; Eq. 6-7 have none).
      output_features: "state" (Eq. 4, o_t = s_t) or "projection" (the original, W_p [s_t; c']).
    """

    def __init__(self, units, num_layers=2, num_emotions=6, use_emb=True, use_imemory=True,
                 read_gate_inputs="paper", write_gate_inputs="paper", imemory_layers="all",
                 gate_bias_init=0.0, attention_mask_pad=True, gru_gate_bias=0.0, attention_query_bias=False,
                 imemory_gate_bias=False, output_features="state", **kwargs):
        # The states stay float32 under a mixed policy (precision.STATE_DTYPE): the cell casts its
        # inputs itself, and its sublayers run their matmuls in the policy's compute dtype.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        if output_features not in OUTPUT_FEATURES:
            raise ValueError(f"--output_features={output_features}: expected one of {', '.join(OUTPUT_FEATURES)}")
        self.units = units
        self.num_layers = num_layers
        self.num_emotions = num_emotions
        self.use_emb = use_emb
        self.use_imemory = use_imemory
        self.read_gate_inputs = read_gate_inputs
        self.write_gate_inputs = write_gate_inputs
        self.imemory_layers = imemory_layers
        self.gate_bias_init = gate_bias_init
        self.attention_mask_pad = attention_mask_pad
        self.gru_gate_bias = gru_gate_bias
        self.attention_query_bias = attention_query_bias
        self.imemory_gate_bias = imemory_gate_bias
        self.output_features = output_features
        self.attention = BahdanauAttention(units, mask_pad=attention_mask_pad, query_bias=attention_query_bias,
                                           name="attention")
        self.grus = []
        for i in range(num_layers):
            gru = SideInputGRUCell(units, side_input=self._layer_side_input(i), gate_bias=gru_gate_bias,
                                   name=f"gru_{i}")
            setattr(self, f"gru_{i}", gru)  # an attribute per layer: tf.train.Checkpoint skips list items
            self.grus.append(gru)
        if use_imemory:
            self.imemory = InternalMemory(num_emotions, units, gate_bias_init, use_bias=imemory_gate_bias,
                                          name="internal_memory")
        if output_features == "projection":
            self.output_projection = keras.layers.Dense(units, name="output_projection")

    def _layer_side_input(self, i):
        emb = self.use_emb and i == 0
        mem = self.use_imemory and (i == 0 or self.imemory_layers == "all")
        return emb or mem

    def build(self, inputs_shape, states_shape=None, memory_shape=None):
        # The attention, GRUs and gates build on their first call inside `call`; the output
        # projection is applied outside it (`output`), so it is built here: [s_L; c] -> H.
        if self.output_features == "projection":
            values_dim = memory_shape["values"][-1] if memory_shape else self.units
            self.output_projection.build((None, self.units + values_dim))
        self.built = True

    def initial_state(self, final_states, emotion, memory):
        """final_states [B, L, H] (encoder), emotion [B] -> state dict (leading dim B)."""
        h = ops.cast(final_states, STATE_DTYPE)  # [B, L, H]
        query = ops.reshape(h, (-1, self.num_layers * self.units))  # [B, L*H]
        context, _ = self.attention(query, memory["keys"], memory["values"], memory["mask"])  # [B, D]
        state = {"h": h, "context": context}
        if self.use_imemory:
            state["imemory"] = self.imemory.initial(emotion)  # [B, H]
        return state

    def call(self, inputs, states, memory):
        """inputs [B, E] = e(y_t-1); states: dict from initial_state; memory: dict with
        values [B, T, D], keys [B, T, A], mask [B, T] and, with use_emb, emotion_vector [B, Demo].

        Returns the new states dict: h [B, L, H], context [B, D] (c', the attention context of
        s_t) and, with use_imemory, imemory [B, H] (M_e,t+1).
        """
        h_prev = states["h"]  # [B, L, H]
        context = states["context"]  # [B, D]
        inputs = ops.cast(inputs, STATE_DTYPE)  # [B, E] (a bfloat16 embedding under a mixed policy)
        x = ops.concatenate([inputs, context], axis=-1)  # [B, E + D]
        emb = [ops.cast(memory["emotion_vector"], STATE_DTYPE)] if self.use_emb else []
        m_r = None
        if self.use_imemory:
            if self.read_gate_inputs == "paper":
                gate_in = [inputs, h_prev[:, -1], context]
            else:
                gate_in = [x] + emb + [h_prev[:, i] for i in range(self.num_layers)]
            m_r, _ = self.imemory.read(ops.concatenate(gate_in, axis=-1), states["imemory"])  # [B, H]
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
        top = new_h[-1]  # [B, H]
        new_states = {"h": ops.stack(new_h, axis=1)}  # [B, L, H]
        if self.use_imemory:
            w_in = top if self.write_gate_inputs == "paper" else ops.concatenate(new_h, axis=-1)
            new_states["imemory"] = self.imemory.write(w_in, states["imemory"])  # [B, H]
        query = ops.concatenate(new_h, axis=-1)  # [B, L*H]
        new_context, _ = self.attention(query, memory["keys"], memory["values"], memory["mask"])
        new_states["context"] = new_context
        return new_states

    def output(self, states):
        """states with h [..., L, H] and context [..., D] (any leading dims, e.g. [T, B]) ->
        (o_t [..., H] output features, s_t [..., H] top-layer state)."""
        top = states["h"][..., -1, :]  # [..., H]
        if self.output_features == "state":
            return top, top  # Eq. 4: the softmax reads s_t
        return self.output_projection(ops.concatenate([top, states["context"]], axis=-1)), top

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units, num_layers=self.num_layers, num_emotions=self.num_emotions,
            use_emb=self.use_emb, use_imemory=self.use_imemory, read_gate_inputs=self.read_gate_inputs,
            write_gate_inputs=self.write_gate_inputs, imemory_layers=self.imemory_layers,
            gate_bias_init=self.gate_bias_init, attention_mask_pad=self.attention_mask_pad,
            gru_gate_bias=self.gru_gate_bias, attention_query_bias=self.attention_query_bias,
            imemory_gate_bias=self.imemory_gate_bias, output_features=self.output_features)
        return config
