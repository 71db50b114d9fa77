"""P&E2R baseline (CERG paper): post and emotion to response with recurrent encoders and decoder.

    h_p     = GRU_post(e(post))                         final state of the post encoder
    h_r,t   = GRU_resp(e(y_t-1), h_r,t-1)               the response so far (y_0 = _GO)
    s_t     = GRU_dec([h_r,t; h_p; v_e], s_t-1)         emotion embedding v_e concatenated
    p(y_t)  = softmax(W s_t + b)

One character embedding e(.) is shared by post and response (the joint character vocabulary);
s_0 = tanh(W_0 [h_p; v_e]).
"""

import keras
import tensorflow as tf

from ecm_tf import emotions
from ecm_tf.cerg import char_vocab


class Pe2rModel(keras.Model):
    """Recurrent P&E2R baseline.

    Args:
      vocab_size: int, joint character vocabulary size V.
      embed_dim: int, character embedding size.
      hidden: int, GRU units of the three recurrent networks.
      emotion_dim: int, emotion embedding size.
      max_chars: int, max characters of post and of response.

    Call args:
      inputs: dict with "emotion" int [B], "post" int [B, P], "response" int [B, R]; training: bool.

    Returns:
      logits float [B, R + 1, V] aligned with the targets (response + _EOS).
    """

    def __init__(self, vocab_size, embed_dim, hidden, emotion_dim, max_chars, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.hidden = hidden
        self.emotion_dim = emotion_dim
        self.max_chars = max_chars
        self.start_id = char_vocab.GO_ID  # first input of the beam search
        self.char_embedding = keras.layers.Embedding(vocab_size, embed_dim, name="char_embedding")
        self.emotion_embedding = keras.layers.Embedding(emotions.NUM_EMOTIONS, emotion_dim, name="emotion_embedding")
        self.post_gru = keras.layers.GRU(hidden, name="post_encoder")
        self.resp_gru = keras.layers.GRU(hidden, return_sequences=True, name="response_encoder")
        self.dec_gru = keras.layers.GRU(hidden, return_sequences=True, name="decoder")
        self.init_state = keras.layers.Dense(hidden, activation="tanh", name="decoder_init")
        self.out = keras.layers.Dense(vocab_size, name="output")

    def _context(self, emotion, post, training):
        """[h_p; v_e] [B, H + E] and the initial decoder state [B, H]."""
        post_emb = self.char_embedding(post)  # [B, P, D]
        h_p = self.post_gru(post_emb, mask=tf.not_equal(post, char_vocab.PAD_ID), training=training)  # [B, H]
        ctx = tf.concat([h_p, self.emotion_embedding(emotion)], axis=-1)  # [B, H + E]
        return ctx, self.init_state(ctx)

    def call(self, inputs, training=False):
        ctx, s0 = self._context(inputs["emotion"], inputs["post"], training)
        response = inputs["response"]
        go = tf.fill([tf.shape(response)[0], 1], char_vocab.GO_ID)
        y_in = self.char_embedding(tf.concat([go, response], axis=1))  # [B, R + 1, D]
        h_r = self.resp_gru(y_in, training=training)  # [B, R + 1, H]
        steps = tf.shape(h_r)[1]
        dec_in = tf.concat([h_r, tf.repeat(ctx[:, None, :], steps, axis=1)], axis=-1)  # [B, R + 1, 2H + E]
        s = self.dec_gru(dec_in, initial_state=s0, training=training)  # [B, R + 1, H]
        return self.out(s)  # [B, R + 1, V]

    def batch_logits(self, batch, training=False):
        return self(dict(emotion=batch["emotion"], post=batch["post"], response=batch["response"]),
                    training=training)

    # --- incremental decoding (shared beam search contract) ---------------------------------
    def initial_state(self, emotion, post):
        ctx, s0 = self._context(emotion, post, False)
        return {"ctx": ctx, "h_r": tf.zeros_like(s0), "s": s0}

    def step(self, ids, state):
        """(log_probs [N, V] of the next character after `ids` [N], new state)."""
        h_r, _ = self.resp_gru.cell(self.char_embedding(ids), [state["h_r"]])  # [N, H]
        s, _ = self.dec_gru.cell(tf.concat([h_r, state["ctx"]], axis=-1), [state["s"]])  # [N, H]
        return tf.nn.log_softmax(self.out(s)), {"ctx": state["ctx"], "h_r": h_r, "s": s}

    def get_config(self):
        return dict(vocab_size=self.vocab_size, embed_dim=self.embed_dim, hidden=self.hidden,
                    emotion_dim=self.emotion_dim, max_chars=self.max_chars, name=self.name)
