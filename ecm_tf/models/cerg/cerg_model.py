"""CERG: a UniLM-style transformer that writes an emotional response character by character.

Input layout (one row, length L = 2 * max_chars + 2, padded in the middle so shapes are static):

    [emotion] post_1 .. post_P (PAD) [SEP] resp_1 .. resp_R (PAD)
    segment:  0 ......................... 0 | 1 ......................... 1

Position ids skip PAD (see CergEmbeddings), and PAD keys are masked, so every real token sees
exactly what it would see in the packed sequence. Next-character prediction on the response part:
the output at [SEP] predicts resp_1, the output at resp_k predicts resp_k+1, the output at the last
response character predicts _EOS (teacher forcing, cross-entropy over the response only).
"""

import keras
import tensorflow as tf

from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg.attention_mask import Seq2SeqAttentionMask
from ecm_tf.models.cerg.embeddings import CergEmbeddings
from ecm_tf.models.cerg.transformer_block import PreLNTransformerBlock


class CergModel(keras.Model):
    """Pre-LN transformer with the seq2seq mask and an output layer tied to the token embeddings.

    Args:
      vocab_size: int, joint character vocabulary size V (char_vocab.CharVocabulary).
      hidden: int, width H (paper: 768).
      num_layers: int, transformer blocks (paper: 12).
      heads: int, attention heads (paper: 12).
      max_chars: int, max characters of post and of response (paper: 32).
      dropout: float, dropout rate.
      bidirectional: bool, False: the seq2seq mask (CERG); True: padding mask only (the substitute
        masked LM of replacement.py reuses this class that way).

    Call args:
      inputs: dict with "tokens" int [B, L] and "segments" int [B, L]; training: bool.

    Returns:
      logits float [B, L, V].
    """

    def __init__(self, vocab_size, hidden, num_layers, heads, max_chars, dropout=0.1, bidirectional=False,
                 **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.num_layers = num_layers
        self.heads = heads
        self.max_chars = max_chars
        self.dropout_rate = dropout
        self.bidirectional = bidirectional
        self.start_id = char_vocab.SEP_ID  # first input of the beam search
        self.seq_len = 2 * max_chars + 2
        self.sep_position = max_chars + 1
        self.embeddings = CergEmbeddings(vocab_size, hidden, self.seq_len, dropout=dropout, name="embeddings")
        self.mask_layer = Seq2SeqAttentionMask(name="seq2seq_mask")
        self.blocks = [PreLNTransformerBlock(hidden, heads, dropout=dropout, name=f"block_{i}")
                       for i in range(num_layers)]
        self.final_ln = keras.layers.LayerNormalization(epsilon=1e-6, name="final_ln")
        self.output_bias = self.add_weight(shape=(vocab_size,), initializer="zeros", name="output_bias")

    def build(self, input_shape=None):
        shape = (None, self.seq_len, self.hidden)
        self.embeddings.build((None, self.seq_len))
        for block in self.blocks:
            block.build(shape)
        self.final_ln.build(shape)
        self.built = True

    def call(self, inputs, training=False):
        return self.output_logits(self.hidden_states(inputs, training=training))

    def output_logits(self, x):
        """Logits [..., V] of final hidden states x [..., H] (output layer tied to the token embeddings)."""
        flat = tf.reshape(x, [-1, self.hidden])  # [N, H]
        logits = tf.matmul(flat, self.embeddings.token_table, transpose_b=True) + self.output_bias  # [N, V]
        return tf.reshape(logits, tf.concat([tf.shape(x)[:-1], [self.vocab_size]], 0))

    def hidden_states(self, inputs, training=False):
        """Final hidden states [B, L, H] of inputs {"tokens", "segments"} [B, L]."""
        tokens, segments = inputs["tokens"], inputs["segments"]  # [B, L]
        real = tf.not_equal(tokens, char_vocab.PAD_ID)  # [B, L]
        if self.bidirectional:
            mask = tf.logical_and(real[:, None, :], tf.ones_like(real)[:, :, None])  # [B, L, L]
        else:
            mask = self.mask_layer(segments, real)  # [B, L, L]
        x = self.embeddings(tokens, segments, training=training)  # [B, L, H]
        for block in self.blocks:
            x = block(x, mask, training=training)
        return self.final_ln(x)  # [B, L, H]

    # --- layout ----------------------------------------------------------------------------
    def sequence(self, emotion, post, response):
        """(tokens, segments) [B, L] from emotion [B], post ids [B, P] and response ids [B, R]."""
        batch = tf.shape(post)[0]
        emo = char_vocab.FIRST_EMOTION_ID + tf.cast(emotion, tf.int32)[:, None]  # [B, 1]
        sep = tf.fill([batch, 1], char_vocab.SEP_ID)
        tokens = tf.concat([emo, post, sep, response], axis=1)  # [B, L]
        segments = tf.concat([tf.zeros([batch, self.max_chars + 2], tf.int32),
                              tf.ones([batch, self.max_chars], tf.int32)], axis=1)  # [B, L]
        return tokens, segments

    def response_logits(self, tokens, segments, training=False):
        """Logits [B, R + 1, V] of the outputs at [SEP] and the R response slots."""
        x = self.hidden_states(dict(tokens=tokens, segments=segments), training=training)  # [B, L, H]
        return self.output_logits(x[:, self.sep_position:])  # [B, R + 1, V]

    def batch_logits(self, batch, training=False):
        """Logits [B, R + 1, V] aligned with batch["target"] (teacher forcing)."""
        tokens, segments = self.sequence(batch["emotion"], batch["post"], batch["response"])
        return self.response_logits(tokens, segments, training=training)

    # --- incremental decoding (shared beam search contract) ---------------------------------
    # The source (emotion, post, [SEP]) sees only itself, so its keys and values are computed once;
    # each step then runs one new position through the blocks against the cached keys and values.
    def initial_state(self, emotion, post):
        """Decoding state: per block the keys/values of the source (response slots empty), the
        keys the next position may attend, the number of real tokens so far and the step t [B]."""
        batch = tf.shape(post)[0]
        src_len = self.sep_position + 1
        tokens, segments = self.sequence(emotion, post, tf.zeros([batch, self.max_chars], tf.int32))
        real = tf.not_equal(tokens[:, :src_len], char_vocab.PAD_ID)  # [B, S]
        x = self.embeddings(tokens[:, :src_len], segments[:, :src_len])  # [B, S, H]
        mask = tf.tile(real[:, None, :], [1, src_len, 1])  # [B, S, S]: the source is fully visible
        pad = [[0, 0], [0, self.seq_len - src_len], [0, 0], [0, 0]]
        state = {"t": tf.zeros([batch], tf.int32),
                 "key_mask": tf.pad(real, [[0, 0], [0, self.seq_len - src_len]]),  # [B, L]
                 "num_real": tf.reduce_sum(tf.cast(real, tf.int32), axis=1) - 1}  # [B], [SEP] is stepped again
        for i, block in enumerate(self.blocks):
            k, v = block.keys_values(x)  # [B, S, heads, dh]
            state[f"k{i}"], state[f"v{i}"] = tf.pad(k, pad), tf.pad(v, pad)  # [B, L, heads, dh]
            x = block(x, mask)
        return state

    def step(self, ids, state):
        """Feeds `ids` [N] (the previous output; [SEP] at t = 0) at position SEP + t and returns
        (log_probs [N, V] of the next character, new state); the same as recomputing the prefix."""
        t = state["t"]  # [N]
        at = tf.one_hot(self.sep_position + t, self.seq_len, on_value=True, off_value=False, dtype=tf.bool)  # [N, L]
        real = tf.not_equal(ids, char_vocab.PAD_ID)  # [N]
        key_mask = tf.logical_or(state["key_mask"], tf.logical_and(at, real[:, None]))  # [N, L]
        position = tf.maximum(state["num_real"] + tf.cast(real, tf.int32) - 1, 0)  # [N], as CergEmbeddings counts
        segment = tf.cast(t > 0, tf.int32)  # [N]: [SEP] is source, the response is segment 1
        emb = self.embeddings
        x = (emb.token(ids) + emb.position(position) + emb.segment(segment))[:, None, :]  # [N, 1, H]
        new_state = {"t": t + 1, "key_mask": key_mask, "num_real": state["num_real"] + tf.cast(real, tf.int32)}
        for i, block in enumerate(self.blocks):
            x, new_state[f"k{i}"], new_state[f"v{i}"] = block.cached_step(
                x, state[f"k{i}"], state[f"v{i}"], at, key_mask)
        logits = self.output_logits(self.final_ln(x[:, 0]))  # [N, V]
        return tf.nn.log_softmax(logits), new_state

    def get_config(self):
        return dict(vocab_size=self.vocab_size, hidden=self.hidden, num_layers=self.num_layers,
                    heads=self.heads, max_chars=self.max_chars, dropout=self.dropout_rate,
                    bidirectional=self.bidirectional, name=self.name)
