"""`emotions=["auto"]` inside the SavedModel: the DUTIR lexicon classifier and the interaction
table's choice (classifier/auto_emotion.py) as graph ops, so TF Serving answers it too.

The lexicon classifier counts, per post, the words of each of the five emotion classes
(LexiconClassifier.predict_tokens: most words wins, ties in the order Angry, Sad, Happy, Disgust,
Like; no word -> Other); the response emotion is the training data's most frequent non-Other one
for that post emotion (interaction.best_per_post_emotion). A neural classifier is its own
SavedModel and is not inside this graph: the export always detects with the lexicon.
"""

import tensorflow as tf

from ecm_tf import emotions
from ecm_tf import saved_models
from ecm_tf.classifier import lexicon as lexicon_clf

AUTO_ID = -2  # what the emotion table gives for "auto"


class GraphAutoEmotion(tf.Module):
    """Args:
      lexicon: {emotion id: words} of the five generated emotions.
      best: [6] response emotion per post emotion.
    """

    def __init__(self, lexicon, best):
        super().__init__(name="auto_emotion")
        masks = {}
        for bit, e in enumerate(emotions.GENERATED):
            for w in lexicon.get(e, ()):
                masks[w] = masks.get(w, 0) | (1 << bit)
        words = sorted(masks)
        self.word_table = saved_models.string_table(words, [masks[w] for w in words], 0)
        order = lexicon_clf.TIE_ORDER
        # A class's tie-break bonus: higher for earlier classes in the tie order (always < 1 count).
        self.bonus = tf.constant([float(len(order) - order.index(e)) / 8.0 for e in emotions.GENERATED])  # [5]
        self.generated = tf.constant(emotions.GENERATED, tf.int32)  # [5]
        self.best = tf.constant(best, tf.int32)  # [6]

    def post_emotions(self, tokens):
        """Ragged [B, T] string tokens -> [B] int32 detected emotion ids."""
        masks = self.word_table.lookup(tokens)  # ragged [B, T]
        flat = tf.expand_dims(masks.flat_values, -1)  # [N, 1], the class bits of every token
        hits = tf.cast(tf.bitwise.bitwise_and(flat, tf.constant([[1 << b for b in range(5)]])) > 0, tf.float32)  # [N, 5]
        counts = tf.math.unsorted_segment_sum(hits, masks.value_rowids(), masks.nrows())  # [B, 5]
        best = tf.gather(self.generated, tf.argmax(counts + self.bonus, axis=-1, output_type=tf.int32))  # [B]
        return tf.where(tf.reduce_max(counts, axis=-1) > 0, best, emotions.OTHER)

    def resolve(self, requested, post_emotion):
        """[B] emotion ids with AUTO_ID replaced by the table's choice for the post emotion."""
        return tf.where(tf.equal(requested, AUTO_ID), tf.gather(self.best, post_emotion), requested)
