"""The one table from the `model` setting (--model, config.json) to its family (models/family.py).

    family = registry.get("ecm")
    family, saved = registry.open("runs/builtin/ecm")   # reads config.json once

Stage modules look families up here and never switch on a family name.
"""

from ecm_tf import config
from ecm_tf import io_utils
from ecm_tf.errors import InputError

NAMES = ("ecm", "cerg", "pe2r")


def get(name, flag="--model"):
    """The Family of `name` (InputError naming `flag` for an unknown one)."""
    if name == "ecm":
        from ecm_tf.models.ecm.family import EcmFamily

        return EcmFamily()
    if name == "cerg":
        from ecm_tf.models.cerg.family import CergFamily

        return CergFamily()
    if name == "pe2r":
        from ecm_tf.models.pe2r.family import Pe2rFamily

        return Pe2rFamily()
    raise InputError(f"{flag}={name}: unknown model family; expected one of {', '.join(NAMES)}")


def open(model_dir, flag="--model_dir"):  # noqa: A001 (the registry's verb)
    """(Family, saved config dict) of a trained folder; config.json is read here, once."""
    saved = config.read_saved(model_dir, flag)
    return get(saved.get("model", "ecm"), f"{model_dir}/config.json: model"), saved


def model_settings(cfg, model_dir, flag="--model_dir"):
    """`cfg` as the model of a trained folder was trained (Family.model_settings of its config.json)."""
    family, saved = open(model_dir, flag)
    return family.model_settings(cfg, saved)


def train(cfg):
    """--mode=train: the trainer of the --model family (resumes from --model_dir)."""
    family = get(cfg.model)
    io_utils.check_output_folder(cfg.model_dir, "--model_dir")
    config.refuse_prep_folder(cfg.model_dir, "--model_dir")
    family.train(cfg)
