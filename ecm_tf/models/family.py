"""The model-family contract: what a task (train, decode, eval, export, chat, CECG sheets) may ask of
a family. Each family package (models/ecm, models/cerg, models/pe2r) has a `family.py` with one
`Family` subclass; models/registry.py maps the `model` setting to it. Tasks never name a family.

    family, saved = registry.open(model_dir)           # config.json read once
    post = family.prepare_post(settings, text, where)  # before any weight is loaded
    predictor = family.load(cfg, model_dir, saved)     # weights verified and restored
    records = predictor.predict([post, ...], [emotion id, ...])
    family.export(predictor, cfg, export_dir)          # a TF Serving version folder
    family.train(cfg)                                  # --mode=train

`predict` returns one dict per (post, emotion) pair, in order, with at least "post" (as the model
saw it), "emotion" (its name) and "response" (the best, "" when none); the ranked candidates are
in the family's own key (ECM "responses", CERG/P&E2R "candidates"), see its predictor.
"""

import abc

from ecm_tf import config
from ecm_tf.errors import InputError


class Predictor(abc.ABC):
    """A trained model folder, restored, that answers posts (see the module docstring).

    Attributes: family (its Family), settings (the model's Config), data_dir (its prep folder),
    search (a short description of the decoding, e.g. "beam 5").
    """

    family = None
    settings = None
    data_dir = ""
    search = ""

    @abc.abstractmethod
    def predict(self, posts, emotion_ids, progress=None):
        """posts: prepared posts (Family.prepare_post); emotion_ids: ints, one per post.
        progress: optional callable(done, total). Returns one record per pair."""

    def respond(self, texts, emotion_ids):
        """Best response text per (raw post text, emotion id) pair."""
        posts = [self.family.prepare_post(self.settings, t, f"post {i + 1}") for i, t in enumerate(texts)]
        return [r["response"] for r in self.predict(posts, list(emotion_ids))]


class Family(abc.ABC):
    """One model family. `name` is its `--model` value; `title` is how output names it."""

    name = ""
    title = ""
    settings_class = None  # the family's model settings (a schema: ecm_tf/schema.py, models/*/settings.py)

    @abc.abstractmethod
    def prepare_post(self, settings, text, where):
        """A raw post as this family's model reads it (InputError naming `where` when unusable)."""

    def model_settings(self, cfg, saved):
        """`cfg` with the model-defining settings of a saved config dict, read through the family's
        schema (config.with_model_settings)."""
        return config.with_model_settings(cfg, saved, self.settings_class)

    @abc.abstractmethod
    def load(self, cfg, model_dir, saved):
        """The Predictor of a trained folder; `saved` is its config.json (registry.open)."""

    @abc.abstractmethod
    def train(self, cfg):
        """--mode=train for this family (resumes from cfg.model_dir)."""

    @abc.abstractmethod
    def export(self, predictor, cfg, export_dir):
        """Writes a SavedModel version folder; returns (its path, a short description)."""

    def perplexities(self, predictor, split, pairs=None, spread=None):
        """({emotion name or "Overall": perplexity}, {...: token perplexity}) teacher forced on a split
        of the predictor's data folder (--mode=eval); `pairs` and `spread`, dicts, receive the pairs
        behind each figure and its 95% interval factor."""
        raise InputError(f"--mode=eval: the {self.title} family has no teacher-forced evaluation here "
                         f"(use --mode=cecg_sheet)")
