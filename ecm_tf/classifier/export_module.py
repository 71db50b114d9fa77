"""SavedModel wrapper of a trained recurrent classifier (written by saved_models.write as
`<classifier folder>/saved_model/N`, the TF Serving layout; TF Serving's base path is saved_model/)."""

import tensorflow as tf

from ecm_tf import saved_models


class ClassifierModule(tf.Module):
    """tf.Module exported with tf.saved_model.save; its `serve` signature maps word ids to emotions.

    Input: `ids` [B, T] int32 word ids of vocab.txt (0 = padding, 1 = unknown), built by
    `ecm_tf.classifier.data.tokenize` + `ClassifierVocabulary.encode`. Output: `logits` [B, 6],
    `probabilities` [B, 6] (softmax) and `label` [B] (argmax, an ECM emotion id).
    `vocab_size` and `vocab_sha256` let a loader refuse a vocabulary the weights were not trained with.

    Args:
      model: RecurrentClassifier, trained.
      vocab_size: int, words in vocab.txt.
      vocab_sha256: str, hash of vocab.txt.
    """

    def __init__(self, model, vocab_size, vocab_sha256):
        super().__init__(name="emotion_classifier")
        self.weights = saved_models.model_variables(model)  # plain tf.Variables (see saved_models)
        self._model = saved_models.Untracked(model)
        self.vocab_size = tf.Variable(vocab_size, dtype=tf.int64, trainable=False, name="vocab_size")
        self.vocab_sha256 = tf.Variable(vocab_sha256, dtype=tf.string, trainable=False, name="vocab_sha256")

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
    def serve(self, ids):
        logits = self._model.obj(ids, training=False)  # [B, 6]
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "label": tf.argmax(logits, axis=-1, output_type=tf.int32),  # [B]
        }
