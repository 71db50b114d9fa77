"""A frozen snapshot of the flags: built once after parsing, saved beside every output.

`Config` gives attribute access (`cfg.batch_size`) and refuses assignment. Training writes it to
`model_dir/config.json`; eval/decode/export read that file once per command (`read_saved`) and take
its model-defining settings from it (`with_model_settings`: DATA_SETTINGS and the family schema's
saved settings, ecm_tf/schema.py), so a model is always rebuilt as trained. The command line (flags.py) builds the Config: `flags.settings()`.
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


# Settings of the data a model was trained on (the prep folder, its lengths and buckets, the classifier
# of its labels), saved in config.json beside the family's model settings (its schema: models/*/settings.py,
# ecm_tf/schema.py) and reloaded with them; "model" names the family.
DATA_SETTINGS = (
    "model", "data_dir", "vocab_size", "max_post_len", "max_response_len", "token_level", "bucket_boundaries",
    "classifier", "clf_vocab_size", "clf_embed_dim", "clf_hidden",
)


# Decoding settings a model folder may carry (its training flags set them, e.g. flags/quickstart.flags):
# decode/chat/eval/export of that folder use the saved value unless the command line gives one.
DECODE_DEFAULTS = ("min_decode_len",)


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


def with_model_settings(cfg, saved, settings_class):
    """`cfg` as the model of a saved config dict was trained: its DATA_SETTINGS and the saved settings of
    its family's `settings_class` (a schema; settings the file predates: their legacy values), and the
    DECODE_DEFAULTS the file holds where the command line set none."""
    decoding = {k: saved[k] for k in DECODE_DEFAULTS if k in saved and k in cfg and not cfg.is_set(k)}
    data = {k: saved[k] for k in DATA_SETTINGS if k in saved}
    return cfg.replace(**data, **settings_class.saved_values(saved), **decoding)
