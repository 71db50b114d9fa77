"""--mode=decode / eval batch posts x emotions into one search: every pair gets what it gets alone.

The same responses in the same order; scores equal to float rounding (a matmul over more rows may
round its last bit differently, ~1e-7 relative), so the records (scores to 4 decimals) are equal.
"""

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO
from ecm_tf import emotions
from ecm_tf import flags as ecm_flags
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.models.ecm import generator as generator_lib
from ecm_tf.models.ecm import factory
from ecm_tf.models.ecm.family import EcmFamily, EcmPredictor

FIXTURE = REPO / "tfrecords" / "fixture"
# Posts of 1 to 14 words: buckets 12 and 16 (decoder sizes 12 and 16).
POSTS = ["你好", "今天 天气 真 好", "你 没有 任何 意义", "我 很 高兴 见到 你 朋友 们",
         " ".join(["我"] * 11), " ".join(["好"] * 14), "明天 见"]


def predictor(**changes):
    cfg = ecm_flags.defaults().replace(data_dir=str(FIXTURE), embed_dim=8, hidden=8, emotion_dim=4, num_layers=2,
                                       beam_size=4, top_k=3, **changes)
    tf.keras.utils.set_random_seed(0)
    model = factory.build_model(cfg, cfg.data_dir)
    post_vocab, response_vocab = vocab_lib.load_pair(cfg.data_dir, flag="--data_dir")
    return EcmPredictor(EcmFamily(), generator_lib.ResponseGenerator(model, cfg, post_vocab, response_vocab))


@pytest.mark.parametrize("changes", [{}, {"encoder_input": "code", "attention_mask_pad": False},
                                     {"encoder_input": "code", "attention_mask_pad": False, "max_decode_len": 5},
                                     {"decoder": "greedy"}])
def test_batched_predict_equals_one_pair_at_a_time(changes, monkeypatch):
    pred = predictor(**changes)
    tokens = [p.split() for p in POSTS]
    jobs = [(i, e) for i in range(len(tokens)) for e in emotions.GENERATED + (0,)]
    posts, emotion_ids = [tokens[i] for i, _ in jobs], [e for _, e in jobs]
    # Small batches (3 pairs) so that batches mix posts, emotions and a partial last batch.
    monkeypatch.setattr(generator_lib, "ROWS_PER_BATCH", 3 * pred.generator.beam)
    calls = []
    search = pred.generator._search
    monkeypatch.setattr(pred.generator, "_search", lambda *a: calls.append(a[0].shape) or search(*a))
    batched = pred.predict(posts, emotion_ids)
    assert len(calls) < len(jobs) and max(shape[0] for shape in calls) == 3
    alone = [pred.predict([p], [e])[0] for p, e in zip(posts, emotion_ids)]
    assert batched == alone
    raw = pred.generator.decode_pairs(tokens, jobs)
    for job in jobs:
        single = pred.generator.decode_pairs(tokens, [job])[job]
        assert [t for t, _ in raw[job]] == [t for t, _ in single]
        np.testing.assert_allclose([s for _, s in raw[job]], [s for _, s in single], rtol=1e-6)


def test_a_batch_holds_one_decoder_size_and_one_width():
    pred = predictor(max_decode_len=5)
    widths = []
    search = pred.generator._search
    pred.generator._search = lambda *a: widths.append(a[0].shape[1]) or search(*a)
    pred.generator.decode_pairs([p.split() for p in POSTS], [(i, 1) for i in range(len(POSTS))])
    assert sorted(widths) == [12, 16]  # one search per bucket width, though the decoder size is the same
