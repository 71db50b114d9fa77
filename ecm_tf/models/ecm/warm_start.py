"""Initialising a model before training: Seq2Seq pretraining weights, pretrained word vectors."""

import os

import numpy as np
import tensorflow as tf

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import errors
from ecm_tf.data import fingerprint
from ecm_tf.errors import InputError
from ecm_tf.models.ecm.factory import create
from ecm_tf.models.ecm.settings import EcmSettings

EMOTION_MARKERS = ("emotion", "memory")


def is_emotion_variable(path):
    """Variables of the emotion parts (Emb, internal memory, selector): never restored from Seq2Seq."""
    return any(m in path for m in EMOTION_MARKERS)


def init_from(model, path, cfg):
    """Copies every shared variable from a trained model (folder or checkpoint prefix) into `model`.

    As the original code: variables whose name contains "emotion" or "memory" keep their fresh
    initialisation, all others must exist in the source with the same shape.
    Returns (restored names, initialised names).
    """
    folder = path if tf.io.gfile.isdir(path) else os.path.dirname(path)
    saved = config.read_saved(folder, flag="--init_from")
    fingerprint.check(saved, cfg.data_dir, folder, files=fingerprint.VOCAB_FILES)
    for name in ("post_vocab_size", "response_vocab_size"):
        if name in saved and saved[name] != getattr(model, name):
            raise InputError(f"--init_from={path}: trained with {name}={saved[name]}, "
                             f"but this model has {getattr(model, name)} (vocabulary-size mismatch)")
    src_cfg = cfg.replace(**EcmSettings.saved_values(saved))
    src_mask = np.zeros([6, model.response_vocab_size], np.uint8)
    source = create(src_cfg, model.post_vocab_size, model.response_vocab_size, src_mask)
    prefix = checkpoints.latest(path, flag="--init_from")
    checkpoints.restore_matched(prefix, f"--init_from={path}", model=source)
    by_path = {v.path: v for v in source.weights}
    restored, initialised = [], []
    for v in model.weights:
        if is_emotion_variable(v.path):
            initialised.append(v.path)
            continue
        src = by_path.get(v.path)
        if src is None or tuple(src.shape) != tuple(v.shape):
            found = "missing" if src is None else f"shape {list(src.shape)}"
            raise InputError(f"--init_from={path}: shared variable {v.path} {list(v.shape)} is {found} there")
        v.assign(src)
        restored.append(v.path)
    return restored, initialised


def load_word_vectors(path, dim):
    """{word: vector} from a text file `word v1 ... vd` (an optional `count dim` header line is skipped)."""
    from ecm_tf import io_utils

    vectors = {}
    for n, line in enumerate(io_utils.read_lines(path), 1):
        parts = line.rstrip().split(" ")
        if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
            continue
        if not line.strip():
            continue
        if len(parts) != dim + 1:
            raise InputError(f"{errors.at(path, n)}: expected a word and {dim} numbers "
                             f"(--embed_dim={dim}), got {len(parts) - 1} values")
        try:
            vectors[parts[0]] = np.asarray(parts[1:], np.float32)
        except ValueError:
            raise InputError(f"{errors.at(path, n)}: not a number in the vector of {parts[0]!r}") from None
    return vectors


def embedding_matrix(words, vectors, dim, rng):
    """[len(words), dim]: the word's vector, else U(-sqrt(3/d), sqrt(3/d)) (the original code).

    Returns (matrix, number of words found)."""
    bound = np.sqrt(3.0 / dim)
    matrix = rng.uniform(-bound, bound, size=(len(words), dim)).astype(np.float32)
    found = 0
    for i, w in enumerate(words):
        if w in vectors:
            matrix[i] = vectors[w]
            found += 1
    return matrix, found


def apply_pretrained_embeddings(model, path, data_dir, seed):
    """Sets the post and response embeddings from a word-vector file; returns a summary line."""
    from ecm_tf.data import vocab

    dim = model.settings.embed_dim
    vectors = load_word_vectors(path, dim)
    post_vocab, response_vocab = vocab.load_pair(data_dir, flag="--data_dir")
    rng = np.random.default_rng(seed)
    parts = []
    for layer, voc in ((model.post_embedding, post_vocab), (model.response_embedding, response_vocab)):
        matrix, found = embedding_matrix(voc.word_list, vectors, dim, rng)
        layer.embeddings.assign(matrix)
        parts.append(f"{layer.name} {found}/{len(voc)}")
    return f"pretrained embeddings from {path}: " + ", ".join(parts) + " words found"
