"""Builds CERG / P&E2R (and CERG's substitute masked LM) from saved settings; restores checkpoints."""

import os

import numpy as np
import tensorflow as tf

from ecm_tf import checkpoints
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import replacement
from ecm_tf.models.cerg.cerg_model import CergModel
from ecm_tf.models.cerg.settings import CergSettings
from ecm_tf.models.pe2r.pe2r_model import Pe2rModel
from ecm_tf.models.pe2r.settings import Pe2rSettings
from ecm_tf.errors import InputError

FAMILIES = ("cerg", "pe2r")
# Never generated: padding, unknown, _GO, [SEP], [MASK] and the emotion tokens (_EOS is allowed).
FORBIDDEN_IDS = tuple(i for i in range(char_vocab.FIRST_CHAR_ID) if i != char_vocab.EOS_ID)


def build(settings, vocab_size):
    """CergModel or Pe2rModel for `settings` (the dict of a Config or of a config.json, read through the
    family's schema: a file written before --pe2r_cell existed is a GRU model), built."""
    family = settings["model"]
    if family == "cerg":
        s = CergSettings.from_values(settings)
        model = CergModel(vocab_size, s.cerg_hidden, s.cerg_layers, s.cerg_heads, s.cerg_max_chars,
                          dropout=s.cerg_dropout, name="cerg")
    elif family == "pe2r":
        s = Pe2rSettings.from_values(settings)
        model = Pe2rModel(vocab_size, s.embed_dim, s.hidden, s.emotion_dim, s.cerg_max_chars, cell=s.pe2r_cell,
                          name="pe2r")
    else:
        raise InputError(f"--model={family}: the CERG trainer handles {' or '.join(FAMILIES)}")
    _call_once(model, s.cerg_max_chars)
    return model


def build_mlm(settings, vocab_size):
    """The substitute masked LM of CERG's character replacement (replacement.py), built."""
    s = CergSettings.from_values(settings)
    mlm = replacement.substitute_mlm(vocab_size, s.cerg_hidden, s.cerg_heads, s.cerg_max_chars, dropout=s.cerg_dropout)
    _call_once(mlm, s.cerg_max_chars)
    return mlm


def _call_once(model, max_chars):
    """Creates every variable (so that checkpoints restore eagerly and completely)."""
    batch = {"emotion": np.zeros([1], np.int32), "post": np.full([1, max_chars], char_vocab.FIRST_CHAR_ID, np.int32),
             "response": np.zeros([1, max_chars], np.int32)}
    if isinstance(model, CergModel):
        tokens, segments = model.sequence(batch["emotion"], batch["post"], batch["response"])
        model(dict(tokens=tokens, segments=segments))
    else:
        model(batch)


def variables(obj):
    """{path without the owner's name: variable} of a Keras model or optimizer, for tf.train.Checkpoint.

    (Keras 3 objects do not expose their nested layers to tf.train.Checkpoint reliably, so the
    checkpoints track the variables by their Keras paths.)
    """
    return {v.path.split("/", 1)[-1]: v for v in obj.variables}


def restore(model, model_dir):
    """Restores the model weights of the latest checkpoint in model_dir (optimizer state ignored)."""
    path = tf.train.latest_checkpoint(model_dir)
    if path is None:
        raise InputError(f"--model_dir={model_dir}: no checkpoint (train first)")
    return checkpoints.restore_matched(path, f"--model_dir={model_dir}", model=variables(model))


def has_checkpoint(model_dir):
    return os.path.isdir(model_dir) and tf.train.latest_checkpoint(model_dir) is not None
