"""The fingerprint of the data a model was trained with: what maps its ids to words.

Two preps of one corpus can give vocabularies of the same size with other words on the same
lines (another seed, another --vocab_size cut, more data): a model restored against the wrong one
decodes into the wrong words without any error. So training saves, in model_dir/config.json,

    "data_fingerprint": {"vocab.post.txt": sha256, "vocab.response.txt": sha256, "ememory.npy": sha256}

and keeps copies of the two vocabularies beside its checkpoints (`model_dir/vocab.post.txt`, ...).
Resume, warm start, decode, eval, export and chat `check` the data folder they are given against
it, and refuse a mismatch in one line naming both folders and the first differing line. A prep with
--vocab_dir copies the vocabulary, so its output has the same fingerprint and keeps working.
Folders written before fingerprints existed have none and are not checked.
"""

import hashlib
import os
import shutil

from ecm_tf import io_utils
from ecm_tf.data.ememory import MASK_FILE
from ecm_tf.data.vocab import POST_FILE, RESPONSE_FILE
from ecm_tf.errors import InputError

KEY = "data_fingerprint"
FILES = (POST_FILE, RESPONSE_FILE, MASK_FILE)
VOCAB_FILES = (POST_FILE, RESPONSE_FILE)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def of(data_dir):
    """{file name: sha256} of a prep folder's vocabularies and external-memory mask."""
    missing = [n for n in FILES if not os.path.exists(os.path.join(data_dir, n))]
    if missing:
        raise InputError(f"--data_dir={data_dir}: missing {', '.join(missing)} (not a prep output folder?)")
    return {n: _sha256(os.path.join(data_dir, n)) for n in FILES}


def keep_copies(data_dir, model_dir):
    """Copies the vocabularies into model_dir (atomically) unless they are there already."""
    for name in VOCAB_FILES:
        target = os.path.join(model_dir, name)
        if not os.path.exists(target):
            with io_utils.atomic_path(target) as tmp:
                shutil.copyfile(os.path.join(data_dir, name), tmp)


def _first_difference(path_a, path_b):
    """(line number, line of a, line of b) where two vocabulary files first differ, or None."""
    a, b = io_utils.read_lines(path_a), io_utils.read_lines(path_b)
    for n, (x, y) in enumerate(zip(a, b), 1):
        if x != y:
            return n, x, y
    if len(a) != len(b):
        n = min(len(a), len(b)) + 1
        return n, a[n - 1] if n <= len(a) else "(end of file)", b[n - 1] if n <= len(b) else "(end of file)"
    return None


def check(saved, data_dir, model_dir, flag="--data_dir", files=FILES):
    """InputError unless data_dir holds the data that the model of `saved` (its config.json) was trained with.

    Args:
      saved: dict, model_dir/config.json.
      data_dir: str, the prep folder about to be used with the model.
      model_dir: str, the model folder (or the --init_from source), named in the message.
      flag: str, the flag that gave data_dir.
      files: the files compared (a warm start needs only the vocabularies: its emotion variables
        and mask are not taken from the source).
    """
    expected = saved.get(KEY)
    if not expected:
        return
    actual = of(data_dir)
    for name in files:
        if actual[name] == expected.get(name):
            continue
        trained_with = saved.get("data_dir", "?")
        message = (f"{flag}={data_dir}: {name} is not the one {model_dir} was trained with "
                   f"(trained with --data_dir={trained_with})")
        reference = os.path.join(model_dir, name)
        if not os.path.exists(reference):  # no copy (the mask): the training folder, if unchanged
            candidate = os.path.join(trained_with, name)
            reference = candidate if os.path.exists(candidate) and _sha256(candidate) == expected.get(name) else None
        if name in VOCAB_FILES and reference:
            diff = _first_difference(reference, os.path.join(data_dir, name))
            if diff:
                n, there, here = diff
                message += f"; first difference at line {n}: {here!r} here, {there!r} in training"
        raise InputError(message + "; use the training data folder or train a new model")
