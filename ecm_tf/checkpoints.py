"""Reading checkpoints safely: integrity checked before use, restores that must fit the model.

A checkpoint that cannot be read whole (a truncated or bit-flipped data file, a damaged index)
is refused with one line naming its file (`verify`); training falls back to the newest intact
one of its folder and says so (`newest_intact`); the others name the checkpoint and step they load
(`describe`).
"""

import glob
import re
import sys

import tensorflow as tf

from ecm_tf.errors import InputError

STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"


def verify(prefix, where):
    """Reads every tensor of checkpoint `prefix` (its CRCs are checked on the way), the iterator
    state excepted; InputError naming the damaged file otherwise. Returns the CheckpointReader."""
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError, IndexError, OSError) as e:
        raise InputError(f"{where}: {prefix}.index is damaged or missing ({_reason(e)})") from None
    dtypes = reader.get_variable_to_dtype_map()
    try:
        for name in sorted(dtypes):
            if dtypes[name] != tf.variant:  # the input iterator's state: read (and checked) by restore
                reader.get_tensor(name)
    except (tf.errors.OpError, ValueError, IndexError, OSError) as e:
        files = " ".join(sorted(glob.glob(glob.escape(prefix) + ".data-*"))) or prefix + ".data-*"
        raise InputError(f"{where}: {files} is damaged ({_reason(e)}; tensor {name})") from None
    return reader


def _reason(e):
    text = getattr(e, "message", None) or str(e) or type(e).__name__
    return text.strip().splitlines()[0][:160]


def step_of(prefix, reader=None):
    """The global step saved in a checkpoint (its `step` variable, else the -N of its name), or None."""
    reader = reader or tf.train.load_checkpoint(prefix)
    if reader.has_tensor(STEP_KEY):
        return int(reader.get_tensor(STEP_KEY))
    match = re.search(r"-(\d+)$", prefix)
    return int(match.group(1)) if match else None


def describe(prefix, reader=None):
    step = step_of(prefix, reader)
    return prefix if step is None else f"{prefix} (step {step})"


def latest(path, flag="--model_dir"):
    """A checkpoint prefix from a model folder (its latest) or a prefix; InputError naming `flag` if none."""
    if tf.io.gfile.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise InputError(f"{flag}={path}: no checkpoint in this folder (train first)")
        return prefix
    if not tf.io.gfile.exists(path + ".index"):
        raise InputError(f"{flag}={path}: no such checkpoint")
    return path


def newest_intact(prefixes, where):
    """The newest of `prefixes` (oldest first, as CheckpointManager.checkpoints) that reads whole,
    with a warning on stderr for each damaged one skipped; None when there are none at all.
    InputError when every one is damaged."""
    for prefix in reversed(list(prefixes)):
        try:
            verify(prefix, where)
            return prefix
        except InputError as e:
            sys.stderr.write(f"warning: {e}; trying the previous checkpoint\n")
    if prefixes:
        raise InputError(f"{where}: no intact checkpoint ({len(prefixes)} damaged); remove them or use another folder")
    return None


def restore_matched(prefix, where, **objects):
    """Restores `objects` (tf.train.Checkpoint keyword arguments) from `prefix`, optimizer state
    ignored; InputError naming `where` when the checkpoint is damaged, or when a saved object has
    no counterpart or another shape."""
    verify(prefix, where)
    status = tf.train.Checkpoint(**objects).restore(prefix).expect_partial()
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        raise InputError(f"{where}: checkpoint {prefix} does not fit this model "
                         f"({str(e).splitlines()[0][:200]})") from None
    return prefix
