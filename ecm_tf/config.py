"""A frozen snapshot of the flags: built once after parsing, saved beside every output.

`Config` gives attribute access (`cfg.batch_size`) and refuses assignment. Model-defining
settings (MODEL_SETTINGS) are written to `model_dir/config.json` by training and reloaded
by eval/decode/export (`read_saved` once per command, then `with_model_settings`), so a model is
always rebuilt as trained. The command line (flags.py) builds the Config: `flags.settings()`.
"""

import os

from ecm_tf.errors import InputError
from ecm_tf import io_utils


class Config:
    """Immutable mapping of setting name -> value."""

    __slots__ = ("_values", "_explicit")

    def __init__(self, values, explicit=()):
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_explicit", frozenset(explicit))

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"Config has no setting {name!r}") from None

    def __setattr__(self, name, value):
        raise AttributeError("Config is frozen: settings are fixed after flag parsing")

    def __contains__(self, name):
        return name in self._values

    def is_set(self, name):
        """True when the setting was given on the command line or in a flag file (not a default)."""
        return name in self._explicit

    def to_dict(self):
        return dict(self._values)

    def replace(self, **changes):
        """A new Config with some values changed (the original is untouched)."""
        values = dict(self._values)
        values.update(changes)
        return Config(values, self._explicit)

    def save(self, folder, name="config.json"):
        io_utils.write_json(os.path.join(folder, name), self._values)


# Settings that define a trained model: saved in config.json and reloaded by eval/decode/export (the
# command line defines them, in flags.py; this module owns the list).
MODEL_SETTINGS = (
    "model", "embed_dim", "hidden", "num_layers", "emotion_dim", "use_emb", "use_imemory", "use_ememory",
    "read_gate_inputs", "write_gate_inputs", "imemory_layers", "gate_bias_init", "selector_input",
    "selector_loss", "imemory_norm", "imemory_decay_padding", "reverse_encoder_input", "attention_mask_pad",
    "selector_loss_weight", "imemory_loss_weight", "vocab_size", "max_post_len", "max_response_len",
    "token_level", "data_dir", "bucket_boundaries", "cerg_layers", "cerg_hidden", "cerg_heads",
    "cerg_max_chars", "cerg_dropout", "replace_rate", "replace_ramp_steps",
    "classifier", "clf_vocab_size", "clf_embed_dim", "clf_hidden",
    "loss_average", "pe2r_cell", "bucket_lengths", "encoder_input", "gru_cell", "attention_query_bias",
    "imemory_gate_bias", "output_features",
)


# Model settings added for faithfulness to the original release, with the behaviour the package had before
# them: a config.json written before a setting existed describes a model trained that way.
LEGACY_MODEL_SETTINGS = {
    "loss_average": "token", "pe2r_cell": "gru", "bucket_lengths": "inclusive", "encoder_input": "paper",
    "gru_cell": "paper", "attention_query_bias": False, "imemory_gate_bias": True, "output_features": "projection",
}


# Decoding settings a model folder may carry (its training flags set them, e.g. flags/quickstart.flags):
# decode/chat/eval/export of that folder use the saved value unless the command line gives one.
DECODE_DEFAULTS = ("min_decode_len",)


def with_legacy_settings(saved):
    """A saved config dict with the settings it predates filled in as the package then behaved."""
    if "model" not in saved and "use_emb" not in saved:
        return dict(saved)  # not a model config
    return {**LEGACY_MODEL_SETTINGS, **saved}


def refuse_prep_folder(model_dir, flag="--model_dir"):
    """InputError naming `flag` when `model_dir` is a data folder written by --mode=prep (its
    prep_stats.json): a model folder of its own keeps prep's config.json and shards apart."""
    if os.path.isfile(os.path.join(model_dir, "prep_stats.json")):
        raise InputError(f"{flag}={model_dir}: is a data folder of --mode=prep, not a model folder; give it as "
                         f"--data_dir and a folder of its own as {flag}")


def read_saved(model_dir, flag="--model_dir"):
    """The dict of model_dir/config.json, read once per command (models/registry.py passes it on).

    Raises InputError naming `flag` when the folder or its config.json is missing.
    """
    if not os.path.isdir(model_dir):
        raise InputError(f"{flag}={model_dir}: no such folder (train a model with --mode=train)")
    refuse_prep_folder(model_dir, flag)
    path = os.path.join(model_dir, "config.json")
    if not os.path.exists(path):
        raise InputError(f"{flag}={model_dir}: no config.json (is this a trained model folder?)")
    return io_utils.read_json(path)


def with_model_settings(cfg, saved):
    """`cfg` with the model-defining settings replaced by those of a saved config dict (settings the
    file predates: their earlier behaviour, LEGACY_MODEL_SETTINGS), and the DECODE_DEFAULTS the file
    holds where the command line set none."""
    saved = with_legacy_settings(saved)
    decoding = {k: saved[k] for k in DECODE_DEFAULTS if k in saved and k in cfg and not cfg.is_set(k)}
    return cfg.replace(**{k: saved[k] for k in MODEL_SETTINGS if k in saved}, **decoding)


def load_model_config(cfg, model_dir=None, flag="--model_dir"):
    """with_model_settings(cfg, read_saved(model_dir)): cfg as the model in model_dir was trained."""
    return with_model_settings(cfg, read_saved(model_dir or cfg.model_dir, flag))
