"""Faithfulness to the original release: bucket membership `length < size` and D - 1 response tokens for bucket D (the original)."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import prepare_data
from ecm_tf import flags as ecm_flags
from ecm_tf.data import pipeline
from ecm_tf.models.ecm.generator import ResponseGenerator, length_offset
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.errors import InputError
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm.settings import EcmSettings
from test_decoding_decode import FIXTURE, make_model_dir


@pytest.mark.parametrize("rule,want", [
    ("original", [0, 1, 1, 2, 2, 2, 2]),  # baseline.py:92: len(source) < size and len(target) < size
    ("inclusive", [0, 0, 1, 1, 2, 2, 2]),
])
def test_bucket_index_by_hand(rule, want):
    bounds = tf.constant([8, 16, 30], tf.int32)
    got = [int(pipeline.bucket_index(tf.constant(n), bounds, rule)) for n in (7, 8, 9, 16, 29, 30, 40)]
    assert got == want
    with pytest.raises(InputError, match="--bucket_lengths=lt"):
        EcmSettings(bucket_lengths="lt")  # checked once, against the choices of the schema


def test_a_post_of_bucket_size_goes_to_the_next_bucket(tmp_path):
    """A post of exactly 8 tokens: bucket 16 under the original rule, bucket 8 when inclusive."""
    rows = ["我们 今天 去 公园 看 花 好 吗\t是 的\tHappy"] * 4
    (tmp_path / "c.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    prepare_data(ecm_flags.defaults().replace(input=str(tmp_path / "c.tsv"), output_dir=str(tmp_path / "d"),
                                           num_shards=1, dev_fraction=0.0))
    assert ecm_flags.defaults().bucket_lengths == "original"
    for rule, width in (("original", 16), ("inclusive", 8)):
        cfg = ecm_flags.defaults().replace(bucket_boundaries=["8", "16"], bucket_lengths=rule)
        batch = next(iter(pipeline.make_dataset(str(tmp_path / "d"), "train", cfg, training=True, batch_size=4)))
        assert batch["post"].shape[1] == width, rule
        assert int(batch["post_len"].numpy().max()) == 8


@pytest.mark.parametrize("rule,limit", [("original", 11), ("inclusive", 12)])
def test_decoder_of_bucket_12_makes_11_selections(tmp_path, rule, limit):
    """A post of 11 tokens is in bucket 12: the original gives it at most 11 response tokens, EOS included."""
    cfg = make_model_dir(tmp_path / "m", bucket_lengths=rule)
    model, cfg = checkpoint_io.load(cfg, str(tmp_path / "m"))[:2]
    post_vocab, response_vocab = vocab_lib.load_pair(str(FIXTURE))
    for decoder_name in ("beam", "greedy"):
        generator = ResponseGenerator(model, cfg.replace(decoder=decoder_name), post_vocab, response_vocab)
        assert generator.max_len(11) == 12 and length_offset(cfg) == 12 - limit
        post = [post_vocab.word_list[4 + i] for i in range(11)]
        ids, scores, lengths = generator._search(np.array([post_vocab.ids(post)], np.int32), np.array([11], np.int32),
                                               np.array([5], np.int32), np.int32(generator.max_len(11)))
        assert ids.shape[-1] == limit  # the search never runs past `limit` tokens
        assert int(lengths.numpy().max()) <= limit
        # --max_decode_len is exactly the longest response, EOS included, under both rules.
        generator = ResponseGenerator(model, cfg.replace(decoder=decoder_name, max_decode_len=5), post_vocab,
                                      response_vocab)
        out = generator._search(np.array([post_vocab.ids(post)], np.int32), np.array([11], np.int32),
                              np.array([5], np.int32), np.int32(generator.max_len(11)))
        assert out[0].shape[-1] == 5
