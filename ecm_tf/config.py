"""A frozen snapshot of the flags: built once after parsing, saved beside every output.

`Config` gives attribute access (`cfg.batch_size`) and refuses assignment. Model-defining
settings (flags.MODEL_FLAGS) are written to `model_dir/config.json` by training and reloaded
by eval/decode/export with `load_model_config`, so a model is always rebuilt as trained.
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


def from_flags():
    from ecm_tf import flags as ecm_flags

    names = ecm_flags.defined_names()
    return Config({n: ecm_flags.FLAGS[n].value for n in names}, [n for n in names if ecm_flags.FLAGS[n].present])


def defaults():
    """The flag defaults as a Config, without parsing a command line (for tests and library use)."""
    from ecm_tf import flags as ecm_flags

    return Config({n: ecm_flags.FLAGS[n].default for n in ecm_flags.defined_names()})


def saved_model_family(model_dir):
    """The `model` setting (ecm, cerg, pe2r) saved in model_dir/config.json; "ecm" when absent."""
    path = os.path.join(model_dir, "config.json")
    if not os.path.exists(path):
        return "ecm"
    return io_utils.read_json(path).get("model", "ecm")


# Model settings added by issue 14 (faithfulness), with the behaviour the package had before
# them: a config.json written before a setting existed describes a model trained that way.
LEGACY_MODEL_SETTINGS = {
    "loss_average": "token", "pe2r_cell": "gru", "bucket_lengths": "inclusive", "encoder_input": "paper",
    "gru_cell": "paper", "attention_query_bias": False, "imemory_gate_bias": True, "output_features": "projection",
}


def with_legacy_settings(saved):
    """A saved config dict with the settings it predates filled in as the package then behaved."""
    if "model" not in saved and "use_emb" not in saved:
        return dict(saved)  # not a model config
    return {**LEGACY_MODEL_SETTINGS, **saved}


def load_model_config(cfg, model_dir=None):
    """Returns `cfg` with the model-defining settings replaced by those saved in model_dir/config.json
    (settings the file predates: their earlier behaviour, LEGACY_MODEL_SETTINGS)."""
    from ecm_tf import flags as ecm_flags

    model_dir = model_dir or cfg.model_dir
    path = os.path.join(model_dir, "config.json")
    if not os.path.exists(path):
        raise InputError(f"--model_dir={model_dir}: no config.json (is this a trained model folder?)")
    saved = with_legacy_settings(io_utils.read_json(path))
    return cfg.replace(**{k: saved[k] for k in ecm_flags.MODEL_FLAGS if k in saved})
