"""Restoring ECM-family folders: the "same model" check against config.json, then the latest checkpoint."""

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import schema
from ecm_tf.errors import InputError
from ecm_tf.models.ecm.factory import build_model
from ecm_tf.models.ecm.settings import EcmSettings

VOCAB_SIZES = ("post_vocab_size", "response_vocab_size")


def check_compatible(model, saved, where):
    """Raises InputError naming the first variable-defining setting (EcmSettings, `variables`) or
    vocabulary size where `model` differs from the saved config dict `saved`."""
    now = model.settings.to_dict()
    differs = schema.first_difference(EcmSettings.names(variables=True), EcmSettings.saved_values(saved), now)
    if differs:
        name, then, here = differs
        raise InputError(f"{where}: trained with {name}={then}, but this model has {name}={here}")
    differs = schema.first_difference(VOCAB_SIZES, saved, {n: getattr(model, n) for n in VOCAB_SIZES})
    if differs:
        name, then, here = differs
        raise InputError(f"{where}: trained with {name}={then}, but the vocabulary of "
                         f"--data_dir has {here} (vocabulary-size mismatch)")


def restore(model, model_dir, saved=None):
    """Restores the latest checkpoint of a training folder into `model` (built by factory.build_model);
    `saved` is its config.json when already read.

    Raises InputError for a missing checkpoint, a different variant, a vocabulary-size mismatch or a
    vocabulary other than the one trained with (data/fingerprint.py).
    Returns the checkpoint prefix.
    """
    from ecm_tf.data import fingerprint

    saved = config.read_saved(model_dir) if saved is None else saved
    fingerprint.check(saved, model.data_dir, model_dir)  # the same words behind the ids
    check_compatible(model, saved, f"--model_dir={model_dir}")
    prefix = checkpoints.latest(model_dir)
    return checkpoints.restore_matched(prefix, f"--model_dir={model_dir}", model=model)


def load(cfg, model_dir=None, saved=None):
    """(model, cfg, checkpoint prefix) of a trained folder: settings from its config.json (`saved`
    when already read), weights from its latest checkpoint (verified whole first)."""
    model_dir = model_dir or cfg.model_dir
    saved = config.read_saved(model_dir) if saved is None else saved
    cfg = config.with_model_settings(cfg, saved, EcmSettings)
    model = build_model(cfg, cfg.data_dir)
    prefix = restore(model, model_dir, saved)  # checks the saved settings against the model first
    return model, cfg, prefix
