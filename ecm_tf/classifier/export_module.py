"""SavedModel wrapper of a trained recurrent classifier."""

import tensorflow as tf


class ClassifierModule(tf.Module):
    """tf.Module exported with tf.saved_model.save; its `serve` signature maps word ids to emotions.

    Input: `ids` [B, T] int32 word ids of vocab.txt (0 = padding, 1 = unknown), built by
    `ecm_tf.classifier.data.tokenize` + `Vocabulary.encode`. Output: `logits` [B, 6],
    `probabilities` [B, 6] (softmax) and `label` [B] (argmax, an ECM emotion id).
    `vocab_size` and `vocab_sha256` let a loader refuse a vocabulary the weights were not trained with.

    Args:
      model: RecurrentClassifier, trained.
      vocab_size: int, words in vocab.txt.
      vocab_sha256: str, hash of vocab.txt.
    """

    def __init__(self, model, vocab_size, vocab_sha256):
        super().__init__(name="emotion_classifier")
        self.model = model
        self.vocab_size = tf.Variable(vocab_size, dtype=tf.int64, trainable=False, name="vocab_size")
        self.vocab_sha256 = tf.Variable(vocab_sha256, dtype=tf.string, trainable=False, name="vocab_sha256")

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
    def serve(self, ids):
        logits = self.model(ids, training=False)  # [B, 6]
        return {
            "logits": logits,
            "probabilities": tf.nn.softmax(logits, axis=-1),
            "label": tf.argmax(logits, axis=-1, output_type=tf.int32),  # [B]
        }
