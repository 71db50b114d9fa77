"""Restoring a checkpoint whose saved objects must all fit the model built from config.json."""

import tensorflow as tf

from ecm_tf.errors import InputError


def restore_matched(prefix, where, **objects):
    """Restores `objects` (tf.train.Checkpoint keyword arguments) from `prefix`, optimizer state
    ignored; InputError naming `where` when a saved object has no counterpart or another shape."""
    status = tf.train.Checkpoint(**objects).restore(prefix).expect_partial()
    try:
        status.assert_existing_objects_matched()
    except AssertionError as e:
        raise InputError(f"{where}: checkpoint {prefix} does not fit this model "
                         f"({str(e).splitlines()[0][:200]})") from None
    return prefix
