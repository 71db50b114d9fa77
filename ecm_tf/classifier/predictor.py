"""`load_classifier(model_dir)`: a trained emotion classifier with `predict(texts) -> list[int]`.

A lexicon folder (config.json with classifier=lexicon) gives a LexiconClassifier; a neural one
gives a NeuralClassifier over its SavedModel, after checking that vocab.txt is the vocabulary the
weights were trained with (size and SHA-256 in config.json and inside the SavedModel). An ensemble
folder (classifier=ensemble, written by replication/judge_select.py) gives an EnsembleClassifier:
the mean of its member networks' probabilities (members/ inside the folder), plus a per-class bias
on the log of that mean, argmax.
"""

import os

import numpy as np

from ecm_tf import emotions
from ecm_tf import io_utils
from ecm_tf import saved_models
from ecm_tf.classifier import data as data_lib
from ecm_tf.classifier.lexicon import LexiconClassifier
from ecm_tf.classifier.vocabulary import ClassifierVocabulary
from ecm_tf.errors import InputError

CONFIG, VOCAB, SAVED_MODEL = "config.json", "vocab.txt", "saved_model"


class NeuralClassifier:
    """A SavedModel classifier with its vocabulary; predicts in length-sorted batches.

    Args:
      model_dir: str, folder written by --mode=train_classifier.
      config: dict, its config.json.
    """

    def __init__(self, model_dir, config, flag="--model_dir"):
        self.model_dir = model_dir
        where = f"{flag}={model_dir}"
        if not isinstance(config.get("clf_max_len"), int):
            raise InputError(f"{where}: {CONFIG} has no clf_max_len (not written by --mode=train_classifier?)")
        self.max_len = config["clf_max_len"]
        vocab_path = os.path.join(model_dir, VOCAB)
        self.vocab = ClassifierVocabulary.load(vocab_path)
        words, sha = len(self.vocab), self.vocab.sha256()
        if words != config.get("clf_vocab_words") or sha != config.get("clf_vocab_sha256"):
            raise InputError(f"{where}: {vocab_path} is not the vocabulary this classifier was trained with "
                             f"({words} words, sha256 {sha[:12]}; expected {config.get('clf_vocab_words')} words, "
                             f"sha256 {str(config.get('clf_vocab_sha256'))[:12]})")
        saved = saved_models.latest_version(os.path.join(model_dir, SAVED_MODEL))
        if saved is None:
            raise InputError(f"{where}: no {SAVED_MODEL}/ (training did not finish?)")
        import tensorflow as tf

        self._module = tf.saved_model.load(saved)
        if (int(self._module.vocab_size.numpy()) != len(self.vocab)
                or self._module.vocab_sha256.numpy().decode() != self.vocab.sha256()):
            raise InputError(f"{where}: {SAVED_MODEL}/ was trained with another vocabulary than {vocab_path}")

    def predict_ids(self, id_lists, batch_size=512):
        """Emotion ids for lists of word ids (empty lists -> Other)."""
        out = np.zeros(len(id_lists), dtype=np.int64)
        keep = [i for i, ids in enumerate(id_lists) if ids]
        lengths = [len(id_lists[i]) for i in keep]
        for batch in data_lib.length_batches(lengths, batch_size):
            rows = [keep[j] for j in batch]
            labels = self._module.serve(data_lib.pad([id_lists[i] for i in rows]))["label"].numpy()
            out[rows] = labels
        return out.tolist()

    def predict(self, texts):
        """Emotion ids for raw or space-segmented sentences."""
        return self.predict_ids([self.vocab.encode(data_lib.tokenize(t, self.max_len)) for t in texts])

    def probabilities(self, texts, batch_size=512):
        """[N, 6] softmax probabilities for raw or space-segmented sentences (empty ones: Other, 1.0)."""
        id_lists = [self.vocab.encode(data_lib.tokenize(t, self.max_len)) for t in texts]
        out = np.zeros((len(id_lists), emotions.NUM_EMOTIONS), dtype=np.float64)
        out[:, emotions.OTHER] = 1.0
        keep = [i for i, ids in enumerate(id_lists) if ids]
        for batch in data_lib.length_batches([len(id_lists[i]) for i in keep], batch_size):
            rows = [keep[j] for j in batch]
            out[rows] = self._module.serve(data_lib.pad([id_lists[i] for i in rows]))["probabilities"].numpy()
        return out


class EnsembleClassifier:
    """Mean of member networks' probabilities, a per-class bias added to its log, argmax.

    config.json: {"classifier": "ensemble", "members": [names of folders under members/],
    "class_bias": [6 floats, ECM label order]}. One member with a bias is a calibrated network.
    """

    MEMBERS = "members"

    def __init__(self, model_dir, config, flag="--model_dir"):
        where = f"{flag}={model_dir}"
        names = config.get("members")
        if not isinstance(names, list) or not names:
            raise InputError(f"{where}: {CONFIG} of an ensemble has no members list")
        bias = config.get("class_bias", [0.0] * emotions.NUM_EMOTIONS)
        if not isinstance(bias, list) or len(bias) != emotions.NUM_EMOTIONS:
            raise InputError(f"{where}: {CONFIG} class_bias must be a list of {emotions.NUM_EMOTIONS} numbers")
        self.class_bias = np.asarray(bias, dtype=np.float64)
        self.members = []
        for name in names:
            folder = os.path.join(model_dir, self.MEMBERS, str(name))
            member = load_classifier(folder, flag)
            if not isinstance(member, NeuralClassifier):
                raise InputError(f"{where}: member {name} is not a neural classifier")
            self.members.append(member)

    def probabilities(self, texts):
        """[N, 6] mean of the members' probabilities (before the class bias)."""
        return np.mean([m.probabilities(texts) for m in self.members], axis=0)

    def predict(self, texts):
        """Emotion ids for raw or space-segmented sentences."""
        if not texts:
            return []
        scores = np.log(np.maximum(self.probabilities(texts), 1e-12)) + self.class_bias
        return np.argmax(scores, axis=-1).tolist()


def load_classifier(model_dir, flag="--model_dir"):
    """LexiconClassifier or NeuralClassifier from a --mode=train_classifier folder; errors name `flag`
    (the flag that gave the folder: --model_dir, --classifier_dir, --label_source)."""
    if not model_dir or not os.path.isdir(model_dir):
        raise InputError(f"{flag}={model_dir}: no such classifier folder (train one with --mode=train_classifier)")
    path = os.path.join(model_dir, CONFIG)
    if not os.path.exists(path):
        raise InputError(f"{flag}={model_dir}: no {CONFIG} (is this a trained classifier folder?)")
    config = io_utils.read_json(path)
    kind = config.get("classifier")
    if kind == "lexicon":
        return LexiconClassifier()
    if kind in ("rnn", "lstm", "bilstm"):
        return NeuralClassifier(model_dir, config, flag)
    if kind == "ensemble":
        return EnsembleClassifier(model_dir, config, flag)
    raise InputError(f"{path}: unknown classifier {kind!r}")


def label_names(ids):
    return [emotions.NAMES[i] for i in ids]
