"""The ECM model family: Seq2Seq, Emb, ECM and its ablations, selected by use_emb / use_imemory / use_ememory."""

import json
import math
import os
from types import SimpleNamespace

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ecm_tf import checkpoints
from ecm_tf import emotions
from ecm_tf.errors import InputError
from ecm_tf.layers.ecm_decoder_cell import ECMDecoderCell
from ecm_tf.layers.encoder import GRUEncoder
from ecm_tf.layers import precision
from ecm_tf.layers.external_memory_output import ExternalMemoryOutput
from ecm_tf.layers.precision import STATE_DTYPE

GO_ID = 3
# Settings that change the variables of a model: a checkpoint only fits a model with the same ones.
VARIANT_SETTINGS = ("use_emb", "use_imemory", "use_ememory", "embed_dim", "hidden", "num_layers",
                    "emotion_dim", "imemory_layers", "selector_input", "gru_cell", "attention_query_bias",
                    "imemory_gate_bias", "output_features")


# The model's hyperparameters (ECMModel's keyword arguments and get_config), with the paper's values.
HPARAMS = {
    "embed_dim": 100, "hidden": 256, "num_layers": 2, "emotion_dim": 100, "use_emb": True, "use_imemory": True,
    "use_ememory": True, "read_gate_inputs": "paper", "write_gate_inputs": "paper", "imemory_layers": "all",
    "gate_bias_init": 0.0, "selector_input": "state", "attention_mask_pad": True, "encoder_input": "paper",
    "gru_cell": "paper", "attention_query_bias": False, "imemory_gate_bias": False, "output_features": "state",
    "post_embedding_init": "keras", "emotion_embedding_init": "keras",
}
# --post_embedding_init -> the post embedding's initializer (it only sets the starting weights: not a
# VARIANT_SETTING, a trained folder decodes whatever the flag says).
POST_EMBEDDING_INITS = {
    "keras": lambda: "uniform",  # Keras's Embedding default, U(-0.05, 0.05)
    "unit": lambda: keras.initializers.RandomUniform(-math.sqrt(3.0), math.sqrt(3.0)),  # U(-sqrt 3, sqrt 3): variance 1
}


def hparams(cfg):
    """ECMModel's hyperparameters from a Config (--reverse_encoder_input read as encoder_input=reversed)."""
    return {**{name: getattr(cfg, name) for name in HPARAMS}, "encoder_input": encoder_input_mode(cfg)}


def encoder_input_mode(cfg):
    """--encoder_input, with the older --reverse_encoder_input read as "reversed"."""
    if cfg.encoder_input == "paper" and cfg.reverse_encoder_input:
        return "reversed"
    return cfg.encoder_input


class ECMModel(keras.Model):
    """Emotional Chatting Machine (Zhou et al., AAAI 2018) and its Table 4 ablations.

    Seq2Seq = no switch on; Emb = use_emb; ECM = all three. Encoder: GRU stack over the post;
    decoder: ECMDecoderCell (attention with input feeding, Emb, internal memory) and
    ExternalMemoryOutput (Eq. 11-14).

    Decoding API (used by the beam search, all tensors with leading dim B):
      encoded = model.encode(post, post_len)          # dict: values, keys, mask, final
      state = model.initial_state(encoded, emotion)   # dict: h, context[, imemory]
      step = model.step_fn(encoded, emotion)          # closes over memory, emotion vector, mask row
      log_probs, state = step(prev_ids, state)        # [B, V], the samplers' contract
      log_probs, state = model.step(prev_ids, state, encoded, emotion)  # the same, one call
    Teacher forcing: `model(batch, training)` -> dict with target_log_probs [B, T],
    selector_logits [B, T] or None, imemory [B, T, H] (M after each step) or None.

    Args:
      post_vocab_size: int, encoder vocabulary size.
      response_vocab_size: int, decoder vocabulary size V.
      ememory_mask: uint8 array [6, V], the external-memory mask (row e = emotion e's words).
      encoder_cudnn: "auto" or False, the encoder GRUs' use_cudnn (False for a model that runs
        inside an XLA-compiled training step: cuDNN has no XLA kernel). Not a hyperparameter: the
        weights are the same either way.
      **hparams: the HPARAMS (embed_dim, hidden, num_layers, emotion_dim, use_emb, use_imemory,
        use_ememory, read_gate_inputs, write_gate_inputs, imemory_layers, gate_bias_init,
        selector_input, attention_mask_pad, encoder_input, gru_cell, attention_query_bias,
        imemory_gate_bias, output_features; docs/faithfulness.md; post_embedding_init: keras or unit,
        the post embedding's initial weights); unset ones take the paper's values.
    """

    def __init__(self, post_vocab_size, response_vocab_size, ememory_mask, name="ecm_model", encoder_cudnn="auto",
                 **hparams):
        unknown = sorted(set(hparams) - set(HPARAMS))
        if unknown:
            raise TypeError(f"ECMModel: unknown hyperparameters {unknown}")
        # The model itself computes in float32 whatever the global policy (layers/precision.py): it
        # only routes tensors, and its sublayers take the policy it was built under.
        super().__init__(name=name, dtype=STATE_DTYPE)
        self.hparams = {**HPARAMS, **hparams}
        cfg = self.cfg = SimpleNamespace(**self.hparams)  # attribute access inside the model
        self.post_vocab_size = post_vocab_size
        self.response_vocab_size = response_vocab_size
        mask = np.asarray(ememory_mask, np.float32)
        if mask.shape != (emotions.NUM_EMOTIONS, response_vocab_size):
            raise InputError(f"external-memory mask has shape {list(mask.shape)}, expected "
                             f"[{emotions.NUM_EMOTIONS}, {response_vocab_size}] (response vocabulary size)")
        self.ememory_mask = mask
        if cfg.gate_bias_init != 0.0 and not cfg.imemory_gate_bias and cfg.use_imemory:
            raise InputError(f"--gate_bias_init={cfg.gate_bias_init}: the read/write gates have no bias "
                             f"(paper Eq. 6-7); add --imemory_gate_bias for the original's biased gates")
        for flag in ("post_embedding_init", "emotion_embedding_init"):
            if getattr(cfg, flag) not in POST_EMBEDDING_INITS:
                raise InputError(f"--{flag}={getattr(cfg, flag)}: expected one of {', '.join(POST_EMBEDDING_INITS)}")
        self.post_embedding = keras.layers.Embedding(
            post_vocab_size, cfg.embed_dim, embeddings_initializer=POST_EMBEDDING_INITS[cfg.post_embedding_init](),
            name="post_embedding")
        self.response_embedding = keras.layers.Embedding(
            response_vocab_size, cfg.embed_dim, name="response_embedding")
        self.encoder = GRUEncoder(cfg.hidden, cfg.num_layers, cfg.encoder_input, cfg.gru_cell, use_cudnn=encoder_cudnn,
                                  name="encoder")
        if cfg.use_emb:
            self.emotion_embedding = keras.layers.Embedding(
                emotions.NUM_EMOTIONS, cfg.emotion_dim,
                embeddings_initializer=POST_EMBEDDING_INITS[cfg.emotion_embedding_init](), name="emotion_embedding")
        self.cell = ECMDecoderCell(
            cfg.hidden, cfg.num_layers, emotions.NUM_EMOTIONS, cfg.use_emb, cfg.use_imemory,
            cfg.read_gate_inputs, cfg.write_gate_inputs, cfg.imemory_layers, cfg.gate_bias_init,
            cfg.attention_mask_pad, gru_gate_bias=1.0 if cfg.gru_cell == "code" else 0.0,
            attention_query_bias=cfg.attention_query_bias, imemory_gate_bias=cfg.imemory_gate_bias,
            output_features=cfg.output_features, name="decoder")
        self.output_layer = ExternalMemoryOutput(
            response_vocab_size, cfg.use_ememory, selector_bias=cfg.selector_input == "output", name="output")

    def get_config(self):
        return {"name": self.name, "post_vocab_size": self.post_vocab_size,
                "response_vocab_size": self.response_vocab_size,
                "ememory_mask": self.ememory_mask.astype(np.uint8).tolist(), **self.hparams}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    # --- decoding API ------------------------------------------------------------------------
    def encode(self, post, post_len):
        """post [B, Tp] int, post_len [B] -> dict values [B, Tp, H], keys [B, Tp, H], mask [B, Tp], final [B, L, H]."""
        post_len = ops.cast(post_len, "int32")
        values, final = self.encoder(self.post_embedding(post), post_len)  # [B, Tp, H], [B, L, H]
        mask = self.encoder.positions_mask(ops.shape(post)[1], post_len)  # [B, Tp] (PADs first in code mode)
        return {"values": values, "keys": self.cell.attention.precompute(values), "mask": mask, "final": final}

    def _memory(self, encoded, emotion):
        memory = {k: encoded[k] for k in ("values", "keys", "mask")}
        if self.cfg.use_emb:
            memory["emotion_vector"] = self.emotion_embedding(emotion)  # [B, Demo]
        return memory

    def _emotion_mask(self, emotion):
        return ops.take(ops.convert_to_tensor(self.ememory_mask), emotion, axis=0)  # [B, V]

    def initial_state(self, encoded, emotion):
        """encoded from `encode`, emotion [B] int -> state dict (leading dim B)."""
        return self.cell.initial_state(encoded["final"], emotion, self._memory(encoded, emotion))

    def step_fn(self, encoded, emotion):
        """The samplers' step contract: `step(prev_ids [B], state) -> (log_probs [B, V], new state)`.

        The attention memory, the emotion vector (Emb) and the external-memory mask rows of
        `emotion` [B] (ExternalMemoryOutput.decode_parts) are computed here once, outside the
        decoding loop, and closed over.
        """
        memory = self._memory(encoded, emotion)  # values, keys, mask [B, Tp, ...]; emotion_vector [B, Demo]
        parts = self.output_layer.decode_parts(tf.constant(self.ememory_mask > 0), emotion)  # mask rows [B, V]

        def step(prev_ids, state):
            x = self.response_embedding(prev_ids)  # [B, E]
            new_state = self.cell(x, state, memory)
            output, top = self.cell.output(new_state)  # [B, H] each
            selector_in = top if self.cfg.selector_input == "state" else output
            log_probs = self.output_layer.decode_log_probs(output, selector_in, parts)  # Eq. 11-14
            return log_probs, new_state

        return step

    def step(self, prev_ids, state, encoded, emotion):
        """prev_ids [B] int, state dict, encoded dict, emotion [B] -> (log_probs [B, V], new state)."""
        return self.step_fn(encoded, emotion)(prev_ids, state)

    # --- teacher forcing ---------------------------------------------------------------------
    def call(self, batch, training=False):
        """batch: dict post [B, Tp], post_len [B], response [B, T] (ends with EOS), emotion [B]."""
        emotion = ops.cast(batch["emotion"], "int32")
        response = ops.cast(batch["response"], "int32")
        encoded = self.encode(batch["post"], batch["post_len"])
        state = self.initial_state(encoded, emotion)
        memory = self._memory(encoded, emotion)
        go = ops.full_like(response[:, :1], GO_ID)
        dec_in = self.response_embedding(ops.concatenate([go, response[:, :-1]], axis=1))  # [B, T, E]
        states = tf.scan(lambda carry, x: self.cell(x, carry, memory), tf.transpose(dec_in, [1, 0, 2]),
                         initializer=state)  # each [T, B, ...]
        outputs, tops = (tf.transpose(v, [1, 0, 2]) for v in self.cell.output(states))  # [B, T, H] each
        selector_in = tops if self.cfg.selector_input == "state" else outputs
        target_lp, sel = self.output_layer(
            outputs, selector_in, self._emotion_mask(emotion)[:, None, :], targets=response)
        imemory = tf.transpose(states["imemory"], [1, 0, 2]) if self.cfg.use_imemory else None  # [B, T, H]
        return {"target_log_probs": target_lp, "selector_logits": sel, "imemory": imemory}


def dummy_batch(batch_size=2, length=2):
    """A tiny batch that builds every variable of a model."""
    ids = np.full([batch_size, length], 4, np.int32)
    return {
        "post": ids, "post_len": np.full([batch_size], length, np.int32), "response": ids,
        "response_len": np.full([batch_size], length, np.int32),
        "emotion": np.arange(batch_size, dtype=np.int32) % emotions.NUM_EMOTIONS,
        "emotion_word": np.zeros([batch_size, length], np.float32),
    }


def create(cfg, post_vocab_size, response_vocab_size, ememory_mask, jit_compile=False):
    """An ECMModel with all variables built (eagerly, so none is created inside a loop later), its layers
    under the dtype policy of cfg.precision (layers/precision.py). `jit_compile`: the model will run
    inside an XLA-compiled step, so its encoder never takes the cuDNN path."""
    with precision.policy(cfg.precision):
        model = ECMModel(post_vocab_size, response_vocab_size, ememory_mask,
                         encoder_cudnn=False if jit_compile else "auto", **hparams(cfg))
    model.data_dir = cfg.data_dir  # the prep folder behind the vocabularies (restore checks its fingerprint)
    model(dummy_batch(), training=False)
    return model


def build_model(cfg, data_dir=None, jit_compile=False):
    """The model for a prep folder: vocabulary sizes and external-memory mask read from `data_dir`
    (`jit_compile`: see `create`)."""
    from ecm_tf.data import ememory, vocab

    data_dir = data_dir or cfg.data_dir
    post_vocab, response_vocab = vocab.load_pair(data_dir, flag="--data_dir")
    mask = ememory.load_mask(data_dir)
    if mask.shape[1] != len(response_vocab):
        raise InputError(f"--data_dir={data_dir}: ememory.npy has {mask.shape[1]} columns but "
                         f"vocab.response.txt has {len(response_vocab)} words")
    return create(cfg, len(post_vocab), len(response_vocab), mask, jit_compile)


def latest_checkpoint(path, flag="--model_dir"):
    """A checkpoint prefix from a model folder (its latest) or a prefix; InputError if none."""
    if tf.io.gfile.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise InputError(f"{flag}={path}: no checkpoint in this folder (train first)")
        return prefix
    if not tf.io.gfile.exists(path + ".index"):
        raise InputError(f"{flag}={path}: no such checkpoint")
    return path


def saved_config(model_dir, flag="--model_dir"):
    """The dict saved as model_dir/config.json by training."""
    path = os.path.join(model_dir, "config.json")
    if not os.path.exists(path):
        raise InputError(f"{flag}={model_dir}: no config.json (is this a trained model folder?)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_compatible(model, saved, where):
    """Raises InputError naming the first setting or vocabulary size where `model` differs from `saved`."""
    for name in VARIANT_SETTINGS:
        if name in saved and saved[name] != getattr(model.cfg, name):
            raise InputError(f"{where}: trained with {name}={saved[name]}, "
                             f"but this model has {name}={getattr(model.cfg, name)}")
    for name in ("post_vocab_size", "response_vocab_size"):
        if name in saved and saved[name] != getattr(model, name):
            raise InputError(f"{where}: trained with {name}={saved[name]}, but the vocabulary of "
                             f"--data_dir has {getattr(model, name)} (vocabulary-size mismatch)")


def restore(model, model_dir, saved=None):
    """Restores the latest checkpoint of a training folder into `model` (built by build_model);
    `saved` is its config.json when already read.

    Raises InputError for a missing checkpoint, a different variant, a vocabulary-size mismatch or a
    vocabulary other than the one trained with (data/fingerprint.py).
    Returns the checkpoint prefix.
    """
    from ecm_tf.data import fingerprint

    saved = saved_config(model_dir) if saved is None else saved
    fingerprint.check(saved, model.data_dir, model_dir)  # the same words behind the ids
    check_compatible(model, saved, f"--model_dir={model_dir}")
    prefix = latest_checkpoint(model_dir)
    return checkpoints.restore_matched(prefix, f"--model_dir={model_dir}", model=model)


def load(cfg, model_dir=None, saved=None):
    """(model, cfg, checkpoint prefix) of a trained folder: settings from its config.json (`saved`
    when already read), weights from its latest checkpoint (verified whole first)."""
    from ecm_tf import config

    model_dir = model_dir or cfg.model_dir
    saved = config.read_saved(model_dir) if saved is None else saved
    cfg = config.with_model_settings(cfg, saved)
    model = build_model(cfg, cfg.data_dir)
    prefix = restore(model, model_dir, saved)  # checks the saved settings against the model first
    return model, cfg, prefix
