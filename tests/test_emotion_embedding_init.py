"""--emotion_embedding_init: the emotion embedding's starting scale (keras U(-0.05, 0.05) stays the default)."""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.errors import InputError
from ecm_tf.models.ecm import factory
from test_model_ecm import MASK, VR, tiny_cfg


def test_emotion_embedding_init_unit_has_variance_one_and_keras_stays_the_default():
    tf.keras.utils.set_random_seed(0)
    default = factory.create(tiny_cfg().replace(emotion_dim=500), 40, VR, MASK)
    assert np.abs(default.emotion_embedding.embeddings.numpy()).max() <= 0.05
    assert default.get_config()["settings"]["emotion_embedding_init"] == "keras"
    unit = factory.create(tiny_cfg(emotion_embedding_init="unit").replace(emotion_dim=500), 40, VR, MASK)
    w = unit.emotion_embedding.embeddings.numpy()  # 3,000 draws of U(-sqrt 3, sqrt 3)
    assert np.abs(w).max() <= np.sqrt(3) and abs(w.var() - 1.0) < 0.1
    assert np.abs(unit.post_embedding.embeddings.numpy()).max() <= 0.05  # the post embedding keeps its own flag
    assert unit.get_config()["settings"]["emotion_embedding_init"] == "unit"
    with pytest.raises(InputError, match="--emotion_embedding_init=big"):
        factory.create(tiny_cfg(emotion_embedding_init="big"), 40, VR, MASK)
