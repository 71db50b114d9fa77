"""tf.data input pipeline over the TFRecords of `--mode=prep` (batch schema: tfrecords/README.md).

parse -> (training: shuffle, repeat) -> length buckets -> padded batch -> prefetch.
The boundaries are cfg.bucket_boundaries plus max(max_post_len, max_response_len) (the original
buckets 12, 16, 20, 30). With cfg.bucket_lengths="original" (default) a pair goes to the first
bucket whose size exceeds both lengths, post_len < size and response_len (EOS included) < size,
as the original's read_data (baseline.py:91-94): so every training row keeps at least one PAD
position, as the original's decoder of size D has D - 1 targets. With "inclusive" the first
bucket whose boundary is >= max(post_len, response_len). A pair longer than the last boundary
allows goes to the last bucket. Training batches are padded to their bucket boundary and have a
fixed batch size, so there are only a few static shapes (good for XLA); evaluation batches are
padded to their bucket boundary too (as the original's dev evaluation) and keep the remainder.

cfg.batching="single_emotion" reproduces the original code's class-balanced batches: each batch
holds one emotion, drawn uniformly among the emotions present in the split (absent ones are never
drawn, so the sampler cannot wait forever for them).
"""

import json
import os

import tensorflow as tf

from ecm_tf import emotions
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError

FEATURES = {
    "post": tf.io.RaggedFeature(tf.int64),
    "response": tf.io.RaggedFeature(tf.int64),
    "emotion": tf.io.FixedLenFeature([], tf.int64),
    "post_emotion": tf.io.FixedLenFeature([], tf.int64),
    "emotion_word": tf.io.RaggedFeature(tf.int64),
    "post_text": tf.io.FixedLenFeature([], tf.string),
    "response_text": tf.io.FixedLenFeature([], tf.string),
}


def split_files(data_dir, split):
    files = tfrecords.split_files(data_dir, split)
    if not files:
        raise InputError(f"--data_dir={data_dir}: no {split}-*.tfrecord files (run --mode=prep)")
    return files


def parse(serialized):
    """Serialized Example -> dict of int32 tensors per the batch schema (one example, unpadded)."""
    ex = tf.io.parse_single_example(serialized, FEATURES)
    post = tf.cast(ex["post"], tf.int32)  # [Tp]
    response = tf.cast(ex["response"], tf.int32)  # [Tr]
    return {
        "post": post,
        "post_len": tf.size(post, out_type=tf.int32),
        "response": response,
        "response_len": tf.size(response, out_type=tf.int32),
        "emotion": tf.cast(ex["emotion"], tf.int32),
        "post_emotion": tf.cast(ex["post_emotion"], tf.int32),
        "emotion_word": tf.cast(ex["emotion_word"], tf.float32),  # [Tr]
    }


def boundaries(cfg):
    """Bucket boundaries (inclusive upper lengths), the last = the longest kept sequence bound."""
    top = max(cfg.max_post_len, cfg.max_response_len)
    return sorted({int(b) for b in cfg.bucket_boundaries if 0 < int(b) < top} | {top})


def bucket_index(length, bounds_t, rule):
    """Index of the bucket of a pair whose longer side has `length` tokens (int32 scalar tensor).

    original: the first boundary > length (the original's `len < size`); inclusive: the first
    boundary >= length. Clamped to the last bucket.
    """
    below = bounds_t <= length if rule == "original" else bounds_t < length  # [num_buckets]
    index = tf.reduce_sum(tf.cast(below, tf.int32))
    return tf.minimum(index, tf.size(bounds_t) - 1)


def _bucketed(ds, bounds, batch_size, training, rule="original"):
    """Groups examples of similar length and pads each batch (to the boundary when training)."""
    bounds_t = tf.constant(bounds, tf.int32)

    def key(ex):
        length = tf.maximum(ex["post_len"], ex["response_len"])
        return tf.cast(bucket_index(length, bounds_t, rule), tf.int64)

    def reduce(bucket, window):
        # Padded to the bucket width, as the original's get_batch / get_batch_data (the number of
        # PAD positions matters in code mode: the encoder reads them, the memory decays through them).
        width = tf.gather(bounds_t, bucket)
        shapes = {k: ([width] if k in ("post", "response", "emotion_word") else []) for k in window.element_spec}
        return window.padded_batch(batch_size, padded_shapes=shapes, drop_remainder=training)

    return ds.group_by_window(key, reduce, window_size=batch_size)


def present_emotions(data_dir, split):
    """Emotion ids with at least one example in the split (from prep_stats.json, else by scanning)."""
    path = os.path.join(data_dir, "prep_stats.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            counts = json.load(f).get("splits", {}).get(split, {}).get("emotions")
        if counts:
            return [e for e in range(emotions.NUM_EMOTIONS) if counts.get(emotions.emotion_name(e), 0) > 0]
    ds = tf.data.TFRecordDataset(split_files(data_dir, split)).map(parse)
    return sorted({int(e) for e in ds.map(lambda ex: ex["emotion"]).as_numpy_iterator()})


def make_dataset(data_dir, split, cfg, training, batch_size=None):
    """Batches of one split as dicts of padded tensors (see the module docstring).

    Args:
      data_dir: str, a prep output folder.
      split: str, "train", "dev" or "test".
      cfg: Config with batch_size, bucket_boundaries, bucket_lengths, max_post_len, max_response_len,
        batching, shuffle_buffer, seed.
      training: bool, shuffle + repeat forever + fixed padded shapes; else one ordered pass.
      batch_size: int, default cfg.batch_size.
    """
    batch_size = batch_size or cfg.batch_size
    bounds = boundaries(cfg)
    rule = cfg.bucket_lengths
    files = split_files(data_dir, split)
    ds = tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE)
    if not training:
        return _bucketed(ds, bounds, batch_size, False, rule).prefetch(tf.data.AUTOTUNE)
    if cfg.batching == "single_emotion":
        present = present_emotions(data_dir, split)
        if not present:
            raise InputError(f"--data_dir={data_dir}: the {split} split is empty")
        per_emotion = [
            _bucketed(ds.filter(lambda ex, e=e: tf.equal(ex["emotion"], e))
                      .shuffle(cfg.shuffle_buffer, seed=cfg.seed + e).repeat(), bounds, batch_size, True, rule)
            for e in present
        ]
        ds = tf.data.Dataset.sample_from_datasets(per_emotion, seed=cfg.seed)
    else:
        ds = _bucketed(ds.shuffle(cfg.shuffle_buffer, seed=cfg.seed).repeat(), bounds, batch_size, True, rule)
    return ds.prefetch(tf.data.AUTOTUNE)


def _decode(serialized):
    ex = tf.train.Example.FromString(serialized).features.feature
    out = {k: list(ex[k].int64_list.value) for k in ("post", "response", "emotion_word")}
    out["emotion"] = ex["emotion"].int64_list.value[0]
    out["post_emotion"] = ex["post_emotion"].int64_list.value[0]
    out["post_text"] = ex["post_text"].bytes_list.value[0].decode("utf-8")
    out["response_text"] = ex["response_text"].bytes_list.value[0].decode("utf-8")
    return out


def read_split(data_dir, split):
    """Every example of a split as a python dict (lists, ints, str), shard by shard, for evaluation."""
    return [_decode(r) for r in tf.data.TFRecordDataset(split_files(data_dir, split)).as_numpy_iterator()]
