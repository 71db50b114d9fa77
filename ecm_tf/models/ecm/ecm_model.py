"""The ECM model family: Seq2Seq, Emb, ECM and its ablations, selected by use_emb / use_imemory / use_ememory."""

import math

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ecm_tf import emotions
from ecm_tf.data.vocab import GO_ID
from ecm_tf.errors import InputError
from ecm_tf.layers.ecm_cell import ECMCell
from ecm_tf.layers.encoder import GRUEncoder
from ecm_tf.layers.external_memory_output import ExternalMemoryOutput
from ecm_tf.layers.precision import STATE_DTYPE
from ecm_tf.models.ecm.settings import EcmSettings

# --post_embedding_init -> the post embedding's initializer (it only sets the starting weights: not saved,
# a trained folder decodes whatever the flag says).
POST_EMBEDDING_INITS = {
    "keras": lambda: "uniform",  # Keras's Embedding default, U(-0.05, 0.05)
    "unit": lambda: keras.initializers.RandomUniform(-math.sqrt(3.0), math.sqrt(3.0)),  # U(-sqrt 3, sqrt 3): variance 1
}

# How teacher forcing runs ECMCell over the response: tf.scan (default) or keras.layers.RNN; the same
# computation (tests/test_model_ecm.py), measured by `python -m bench.bench_train --recurrence scan,rnn`.
RECURRENCES = ("scan", "rnn")


class ECMModel(keras.Model):
    """Emotional Chatting Machine (Zhou et al., AAAI 2018) and its Table 4 ablations.

    Seq2Seq = no switch on; Emb = use_emb; ECM = all three. Encoder: GRU stack over the post;
    decoder: ECMCell (a Keras RNN cell: attention with input feeding, Emb, internal memory) and
    ExternalMemoryOutput (Eq. 11-14).

    Decoding API (used by the beam search, all tensors with leading dim B):
      encoded = model.encode(post, post_len)          # dict: values, keys, mask, final
      state = model.initial_state(encoded, emotion)   # the cell's state [B, S]
      step = model.step_fn(encoded, emotion)          # closes over memory, emotion vector, mask row
      log_probs, state = step(prev_ids, state)        # [B, V], the samplers' contract
      log_probs, state = model.step(prev_ids, state, encoded, emotion)  # the same, one call
    Teacher forcing: `model(batch, training)` -> dict with target_log_probs [B, T],
    selector_logits [B, T] or None, imemory [B, T, H] (M after each step) or None; tf.scan or
    keras.layers.RNN runs the cell over the response (`recurrence`).

    Args:
      post_vocab_size: int, encoder vocabulary size.
      response_vocab_size: int, decoder vocabulary size V.
      ememory_mask: uint8 array [6, V], the external-memory mask (row e = emotion e's words).
      settings: EcmSettings (models/ecm/settings.py; docs/faithfulness.md), the paper's by default.
      encoder_cudnn: "auto" or False, the encoder GRUs' use_cudnn (False for a model that runs
        inside an XLA-compiled training step: cuDNN has no XLA kernel). Not a setting: the
        weights are the same either way.
      recurrence: "scan" or "rnn" (RECURRENCES), what runs the cell in teacher forcing. Not a
        setting either: the same weights and values.
    """

    def __init__(self, post_vocab_size, response_vocab_size, ememory_mask, settings=EcmSettings(), *,
                 name="ecm_model", encoder_cudnn="auto", recurrence="scan"):
        # The model itself computes in float32 whatever the global policy (layers/precision.py): it
        # only routes tensors, and its sublayers take the policy it was built under.
        super().__init__(name=name, dtype=STATE_DTYPE)
        self.settings = cfg = settings
        self.post_vocab_size = post_vocab_size
        self.response_vocab_size = response_vocab_size
        mask = np.asarray(ememory_mask, np.float32)
        if mask.shape != (emotions.NUM_EMOTIONS, response_vocab_size):
            raise InputError(f"external-memory mask has shape {list(mask.shape)}, expected "
                             f"[{emotions.NUM_EMOTIONS}, {response_vocab_size}] (response vocabulary size)")
        self.ememory_mask = mask
        if recurrence not in RECURRENCES:
            raise ValueError(f"recurrence={recurrence!r}: expected one of {', '.join(RECURRENCES)}")
        self.recurrence = recurrence
        self.post_embedding = keras.layers.Embedding(
            post_vocab_size, cfg.embed_dim, embeddings_initializer=POST_EMBEDDING_INITS[cfg.post_embedding_init](),
            name="post_embedding")
        self.response_embedding = keras.layers.Embedding(
            response_vocab_size, cfg.embed_dim, name="response_embedding")
        self.encoder = GRUEncoder(cfg.hidden, cfg.num_layers, cfg.encoder_mode, cfg.gru_cell, use_cudnn=encoder_cudnn,
                                  name="encoder")
        if cfg.use_emb:
            self.emotion_embedding = keras.layers.Embedding(
                emotions.NUM_EMOTIONS, cfg.emotion_dim,
                embeddings_initializer=POST_EMBEDDING_INITS[cfg.emotion_embedding_init](), name="emotion_embedding")
        self.cell = ECMCell(
            units=cfg.hidden, num_layers=cfg.num_layers, num_emotions=emotions.NUM_EMOTIONS, memory_dim=cfg.hidden,
            use_emb=cfg.use_emb, emotion_dim=cfg.emotion_dim, use_imemory=cfg.use_imemory,
            read_gate_inputs=cfg.read_gate_inputs, write_gate_inputs=cfg.write_gate_inputs,
            imemory_layers=cfg.imemory_layers, gate_bias_init=cfg.gate_bias_init,
            imemory_gate_bias=cfg.imemory_gate_bias, attention_mask_pad=cfg.attention_mask_pad,
            attention_query_bias=cfg.attention_query_bias, gru_gate_bias=1.0 if cfg.gru_cell == "code" else 0.0,
            output_features=cfg.output_features, name="decoder")
        # The recurrence of teacher forcing; float32 as the cell (its outputs and states stay float32).
        self.decoder_rnn = (keras.layers.RNN(self.cell, return_sequences=True, dtype=STATE_DTYPE, name="decoder_rnn")
                            if recurrence == "rnn" else None)
        self.output_layer = ExternalMemoryOutput(
            response_vocab_size, cfg.use_ememory, selector_bias=cfg.selector_input == "output", name="output")

    def build(self, batch_shape=None):
        """Every variable (no batch needed): the embeddings, the encoder, the cell and the output layer."""
        cfg, e, h = self.settings, self.settings.embed_dim, self.settings.hidden
        self.post_embedding.build((None, None))
        self.response_embedding.build((None, None))
        self.encoder.build((None, None, e))
        if cfg.use_emb:
            self.emotion_embedding.build((None,))
        self.cell.build((None, e))
        self.output_layer.build((None, h), (None, h))

    def get_config(self):
        return {"name": self.name, "post_vocab_size": self.post_vocab_size,
                "response_vocab_size": self.response_vocab_size,
                "ememory_mask": self.ememory_mask.astype(np.uint8).tolist(), "settings": self.settings.to_dict(),
                "recurrence": self.recurrence}

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "settings": EcmSettings(**config["settings"])})

    # --- decoding API ------------------------------------------------------------------------
    def encode(self, post, post_len):
        """post [B, Tp] int, post_len [B] -> dict values [B, Tp, H], keys [B, Tp, H], mask [B, Tp], final [B, L, H]."""
        post_len = ops.cast(post_len, "int32")
        values, final = self.encoder(self.post_embedding(post), post_len)  # [B, Tp, H], [B, L, H]
        mask = self.encoder.positions_mask(ops.shape(post)[1], post_len)  # [B, Tp] (PADs first in code mode)
        return {"values": values, "keys": self.cell.attention.precompute(values), "mask": mask, "final": final}

    def _memory(self, encoded, emotion):
        memory = {k: encoded[k] for k in ("values", "keys", "mask")}
        if self.settings.use_emb:
            memory["emotion_vector"] = self.emotion_embedding(emotion)  # [B, Demo]
        return memory

    def _emotion_mask(self, emotion):
        return ops.take(ops.convert_to_tensor(self.ememory_mask), emotion, axis=0)  # [B, V]

    def initial_state(self, encoded, emotion):
        """encoded from `encode`, emotion [B] int -> the cell's state [B, S]; binds the cell's memory."""
        self.cell.bind(**self._memory(encoded, emotion), emotion=emotion)
        return self.cell.initial_state(encoded["final"])

    def step_fn(self, encoded, emotion):
        """The samplers' step contract: `step(prev_ids [B], state) -> (log_probs [B, V], new state)`.

        The attention memory, the emotion vector (Emb) and the external-memory mask rows of
        `emotion` [B] (ExternalMemoryOutput.decode_parts) are computed here once, outside the
        decoding loop, and closed over.
        """
        memory = self._memory(encoded, emotion)  # values, keys, mask [B, Tp, ...]; emotion_vector [B, Demo]
        parts = self.output_layer.decode_parts(tf.constant(self.ememory_mask > 0), emotion)  # mask rows [B, V]

        def step(prev_ids, state):
            self.cell.bind(**memory)  # this search's memory, whatever was bound since
            x = self.response_embedding(prev_ids)  # [B, E]
            new_state, _ = self.cell(x, state)  # [B, S], the output is the state
            top, context, _ = self.cell.readout(new_state)  # [B, H], [B, D]
            features = self.cell.output_features(top, context)  # [B, H]
            selector_in = top if self.settings.selector_input == "state" else features
            log_probs = self.output_layer.decode_log_probs(features, selector_in, parts)  # Eq. 11-14
            return log_probs, new_state

        return step

    def step(self, prev_ids, state, encoded, emotion):
        """prev_ids [B] int, state [B, S], encoded dict, emotion [B] -> (log_probs [B, V], new state [B, S])."""
        return self.step_fn(encoded, emotion)(prev_ids, state)

    # --- teacher forcing ---------------------------------------------------------------------
    def call(self, batch, training=False):
        """batch: dict post [B, Tp], post_len [B], response [B, T] (ends with EOS), emotion [B]."""
        emotion = ops.cast(batch["emotion"], "int32")
        response = ops.cast(batch["response"], "int32")
        encoded = self.encode(batch["post"], batch["post_len"])
        state = self.initial_state(encoded, emotion)  # binds the cell's memory
        go = ops.full_like(response[:, :1], GO_ID)
        dec_in = self.response_embedding(ops.concatenate([go, response[:, :-1]], axis=1))  # [B, T, E]
        if self.recurrence == "rnn":
            outputs = self.decoder_rnn(dec_in, initial_state=state)  # [B, T, state_size]
        else:
            outputs = tf.transpose(tf.scan(lambda carry, x: self.cell(x, carry)[0], tf.transpose(dec_in, [1, 0, 2]),
                                           initializer=state), [1, 0, 2])  # [B, T, state_size]
        top, context, imemory = self.cell.readout(outputs)  # [B, T, H], [B, T, D], [B, T, H] or None
        features = self.cell.output_features(top, context)  # [B, T, H]
        selector_in = top if self.settings.selector_input == "state" else features
        target_lp, sel = self.output_layer(
            features, selector_in, self._emotion_mask(emotion)[:, None, :], targets=response)
        return {"target_log_probs": target_lp, "selector_logits": sel, "imemory": imemory}

