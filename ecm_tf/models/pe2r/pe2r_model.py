"""P&E2R baseline (CERG paper): post and emotion to response with recurrent encoders and decoder.

    h_p     = RNN_post(e(post))                         final state of the post encoder
    h_r,t   = RNN_resp(e(y_t-1), h_r,t-1)               the response so far (y_0 = _GO)
    s_t     = RNN_dec([h_r,t; h_p; v_e], s_t-1)         emotion embedding v_e concatenated
    p(y_t)  = softmax(W s_t + b)

RNN is an LSTM by default (`--pe2r_cell=lstm`: the CERG paper describes P&E2R as LSTM-based) or
a GRU (`--pe2r_cell=gru`, what this package trained before; a config.json without `pe2r_cell`
is a GRU model). One character embedding e(.) is shared by post and response (the joint character
vocabulary); the decoder starts from s_0 = tanh(W_0 [h_p; v_e]) (an LSTM's memory cell from 0).
"""

import keras
import tensorflow as tf

from ecm_tf import emotions
from ecm_tf.models.cerg import char_vocab



class Pe2rModel(keras.Model):
    """Recurrent P&E2R baseline.

    Args:
      vocab_size: int, joint character vocabulary size V.
      embed_dim: int, character embedding size.
      hidden: int, GRU units of the three recurrent networks.
      emotion_dim: int, emotion embedding size.
      max_chars: int, max characters of post and of response.
      cell: "lstm" (default) or "gru", the three recurrent networks.

    Call args:
      inputs: dict with "emotion" int [B], "post" int [B, P], "response" int [B, R]; training: bool.

    Returns:
      logits float [B, R + 1, V] aligned with the targets (response + _EOS).
    """

    def __init__(self, vocab_size, embed_dim, hidden, emotion_dim, max_chars, cell="lstm", **kwargs):
        super().__init__(**kwargs)
        self.cell = cell
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.emotion_dim = emotion_dim
        self.max_chars = max_chars
        self.start_id = char_vocab.GO_ID  # first input of the beam search
        self.char_embedding = keras.layers.Embedding(vocab_size, embed_dim, name="char_embedding")
        self.emotion_embedding = keras.layers.Embedding(emotions.NUM_EMOTIONS, emotion_dim, name="emotion_embedding")
        rnn = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
        self.post_rnn = rnn(hidden, name="post_encoder")
        self.resp_rnn = rnn(hidden, return_sequences=True, name="response_encoder")
        self.dec_rnn = rnn(hidden, return_sequences=True, name="decoder")
        self.init_state = keras.layers.Dense(hidden, activation="tanh", name="decoder_init")
        self.out = keras.layers.Dense(vocab_size, name="output")

    def _context(self, emotion, post, training):
        """[h_p; v_e] [B, H + E] and the initial decoder state [B, H]."""
        post_emb = self.char_embedding(post)  # [B, P, D]
        h_p = self.post_rnn(post_emb, mask=tf.not_equal(post, char_vocab.PAD_ID), training=training)  # [B, H]
        ctx = tf.concat([h_p, self.emotion_embedding(emotion)], axis=-1)  # [B, H + E]
        return ctx, self.init_state(ctx)

    def call(self, inputs, training=False):
        ctx, s0 = self._context(inputs["emotion"], inputs["post"], training)
        response = inputs["response"]
        go = tf.fill([tf.shape(response)[0], 1], char_vocab.GO_ID)
        y_in = self.char_embedding(tf.concat([go, response], axis=1))  # [B, R + 1, D]
        h_r = self.resp_rnn(y_in, training=training)  # [B, R + 1, H]
        steps = tf.shape(h_r)[1]
        dec_in = tf.concat([h_r, tf.repeat(ctx[:, None, :], steps, axis=1)], axis=-1)  # [B, R + 1, 2H + E]
        s = self.dec_rnn(dec_in, initial_state=self._rnn_state(s0, tf.zeros_like(s0)), training=training)  # [B, R + 1, H]
        return self.out(s)  # [B, R + 1, V]

    def batch_logits(self, batch, training=False):
        return self(dict(emotion=batch["emotion"], post=batch["post"], response=batch["response"]),
                    training=training)

    def _rnn_state(self, h, c):
        """A Keras cell's state list: [h, c] for an LSTM, [h] for a GRU."""
        return [h, c] if self.cell == "lstm" else [h]

    # --- incremental decoding (shared beam search contract) ---------------------------------
    def initial_state(self, emotion, post):
        """Decoding state, leading dim B: ctx [B, H + E], h_r/c_r, s/c_s [B, H] (c_* are 0 for a GRU)."""
        ctx, s0 = self._context(emotion, post, False)
        zeros = tf.zeros_like(s0)
        return {"ctx": ctx, "h_r": zeros, "c_r": zeros, "s": s0, "c_s": zeros}

    def step(self, ids, state):
        """(log_probs [N, V] of the next character after `ids` [N], new state)."""
        h_r, resp_state = self.resp_rnn.cell(self.char_embedding(ids), self._rnn_state(state["h_r"], state["c_r"]))
        s, dec_state = self.dec_rnn.cell(tf.concat([h_r, state["ctx"]], axis=-1),  # [N, 2H + E]
                                         self._rnn_state(state["s"], state["c_s"]))  # s [N, H]
        c_r = resp_state[1] if self.cell == "lstm" else state["c_r"]
        c_s = dec_state[1] if self.cell == "lstm" else state["c_s"]
        return tf.nn.log_softmax(self.out(s)), {"ctx": state["ctx"], "h_r": h_r, "c_r": c_r, "s": s, "c_s": c_s}

    def get_config(self):
        return dict(vocab_size=self.vocab_size, embed_dim=self.embed_dim, hidden=self.hidden,
                    emotion_dim=self.emotion_dim, max_chars=self.max_chars, cell=self.cell, name=self.name)
