"""Emotion labels for unlabelled text, as `--mode=prep` takes them (data/prep.py never imports a
classifier: the command line builds a Labeller and passes it in).

    labeller = Labeller("auto")                  # the DUTIR lexicon classifier
    labeller = Labeller("runs/mini/clf_bilstm")  # a trained classifier folder
    labeller = for_config(cfg)                   # --label_source, --ememory_words, --token_level
    ids = labeller(texts, token_lists)             # one emotion id per text
"""

import os
import sys

from ecm_tf.errors import InputError


class Labeller:
    """callable(texts, token_lists) -> emotion ids. `name` keys prep's label counts.

    Args:
      source: "auto" (the lexicon classifier) or a trained classifier folder (checked when first used).
      ememory_words: optional JSON word lists for the lexicon (--ememory_words).
      token_level: "word" (the lexicon reads the given tokens) or "char" (it segments the texts).
      flag: the flag named in errors.
    """

    def __init__(self, source="auto", ememory_words="", token_level="word", flag="--label_source"):
        self.source = source or "auto"
        self.ememory_words = ememory_words
        self.token_level = token_level
        self.flag = flag
        self.name = "lexicon_classifier" if self.source == "auto" else "classifier"
        self._classifier = None

    def _load(self):
        if self._classifier is None:
            if self.source == "auto":
                from ecm_tf.classifier.lexicon import LexiconClassifier

                self._classifier = LexiconClassifier(self.ememory_words)
            else:
                if not os.path.isdir(self.source):
                    raise InputError(f"{self.flag}={self.source}: expected 'auto' or a trained classifier folder")
                from ecm_tf.classifier import predictor

                self._classifier = predictor.load_classifier(self.source, self.flag)
        return self._classifier

    def __call__(self, texts, token_lists):
        classifier = self._load()
        if self.source == "auto" and self.token_level == "word":
            return [classifier.predict_tokens(t) for t in token_lists]
        if self.source != "auto":
            sys.stderr.write(f"labelling {len(texts)} sentences with the classifier in {self.source}\n")
            sys.stderr.flush()
        return classifier.predict(list(texts))


def for_config(cfg):
    """The Labeller of --label_source, --ememory_words and --token_level."""
    return Labeller(cfg.label_source, cfg.ememory_words, cfg.token_level)
