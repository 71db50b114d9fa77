"""The UniLM sequence-to-sequence self-attention mask (Dong et al. 2019; CERG Sec. 3)."""

import keras
import tensorflow as tf


def seq2seq_mask(segment_ids, padding_mask):
    """Boolean attention mask: query i may attend key j iff idx[j] <= idx[i] and j is not padding.

    idx = cumsum(segment_ids) along the sequence, with segment 0 for the emotion token, the post
    and [SEP] and segment 1 for the response: every source position has idx 0 (the source is fully
    visible to every position), the k-th response position has idx k (the response is causal).

    Args:
      segment_ids: int [B, L], 0 source, 1 response (padding: any value, it is masked as a key).
      padding_mask: bool [B, L], True at real tokens.

    Returns:
      bool [B, L, L], [b, i, j] True where query i may attend key j.
    """
    idx = tf.cumsum(tf.cast(segment_ids, tf.int32), axis=1)  # [B, L]
    visible = idx[:, None, :] <= idx[:, :, None]  # [B, L(i), L(j)]
    return tf.logical_and(visible, tf.cast(padding_mask, tf.bool)[:, None, :])


class Seq2SeqAttentionMask(keras.layers.Layer):
    """Keras layer wrapper of `seq2seq_mask` (no weights).

    Call args:
      segment_ids: int [B, L]; padding_mask: bool [B, L].

    Returns:
      bool [B, L, L].
    """

    def call(self, segment_ids, padding_mask):
        return seq2seq_mask(segment_ids, padding_mask)

    def compute_output_shape(self, segment_shape, padding_shape):
        return (segment_shape[0], segment_shape[1], segment_shape[1])

    def get_config(self):
        return super().get_config()
