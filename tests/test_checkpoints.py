"""ecm_tf.checkpoints.restore_matched: every object of the model must find its saved value."""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import checkpoints
from ecm_tf.errors import InputError


def test_restore_matched_round_trip_and_mismatch(tmp_path):
    saved = {"kernel": tf.Variable(np.arange(6, dtype=np.float32).reshape(2, 3))}
    prefix = tf.train.Checkpoint(model=saved).save(str(tmp_path / "ckpt"))
    target = {"kernel": tf.Variable(tf.zeros([2, 3]))}
    assert checkpoints.restore_matched(prefix, "--model_dir=m", model=target) == prefix
    np.testing.assert_array_equal(target["kernel"].numpy(), saved["kernel"].numpy())
    other = {"kernel": tf.Variable(tf.zeros([2, 3])), "emotion_memory": tf.Variable(tf.zeros([6, 4]))}
    with pytest.raises(InputError, match=r"--model_dir=m: checkpoint .*ckpt-1 does not fit this model"):
        checkpoints.restore_matched(prefix, "--model_dir=m", model=other)
