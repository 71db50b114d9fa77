"""TFRecord round trip and the tf.data pipeline (buckets, padding, single-emotion batches)."""

import numpy as np
import pytest

from conftest import prepare_data
from ecm_tf import flags as ecm_flags
from ecm_tf.classifier.lexicon import LexiconClassifier
from ecm_tf.data import ememory
from ecm_tf.data import pipeline
from ecm_tf.data import tfrecords
from ecm_tf.data import vocab as vocab_lib

# Emotions 0, 1, 2 and 5 present; 3 (Disgust) and 4 (Angry) missing.
ROWS = [
    ("今天 天气 真 好", "是 啊 我 很 开心", "Happy"),
    ("我 的 猫 丢 了", "别 难过 ， 会 找到 的", "Sad"),
    ("你 在 干 什么", "在 看 书 呢", "Other"),
    ("送 你 一 朵 花", "好 漂亮 ， 喜欢", "Like"),
    (" ".join(["很"] * 14), " ".join(["长"] * 18), "Other"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipe")
    lines = [f"{p}\t{r}\t{e}" for p, r, e in ROWS * 4]
    (tmp / "c.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(input=str(tmp / "c.tsv"), output_dir=str(tmp / "d"), num_shards=2,
                                    dev_input=str(tmp / "c.tsv"))
    prepare_data(cfg)
    return str(tmp / "d")


def test_tfrecord_round_trip(data_dir):
    post_vocab, resp_vocab = vocab_lib.load_pair(data_dir)
    mask = ememory.load_mask(data_dir)
    got = pipeline.read_split(data_dir, "dev")
    assert len(got) == len(ROWS) * 4
    names = {"Happy": 5, "Sad": 2, "Other": 0, "Like": 1}
    want = sorted((p, r, names[e]) for p, r, e in ROWS * 4)
    assert sorted((g["post_text"], g["response_text"], g["emotion"]) for g in got) == want
    for g in got:
        assert g["post"] == post_vocab.ids(g["post_text"].split())
        assert g["response"] == resp_vocab.ids(g["response_text"].split()) + [vocab_lib.EOS_ID]
        assert g["emotion_word"] == [int(mask[g["emotion"], i]) for i in g["response"]]
        # Unlabelled posts are labelled like responses (lexicon classifier), for the interaction table.
        assert g["post_emotion"] == LexiconClassifier().predict_tokens(g["post_text"].split())
    assert any(sum(g["emotion_word"]) for g in got)


def test_encoder_matches_tensorflow_parser():
    ex = {"post": [5, 40000], "response": [7, 2], "emotion": 4, "post_emotion": -1, "emotion_word": [1, 0],
          "post_text": "你 好", "response_text": "走 开"}
    import tensorflow as tf

    parsed = pipeline.parse(tf.constant(tfrecords.encode(ex)))
    assert parsed["post"].numpy().tolist() == [5, 40000] and int(parsed["post_emotion"]) == -1
    assert parsed["emotion_word"].numpy().tolist() == [1.0, 0.0] and int(parsed["response_len"]) == 2
    assert pipeline._decode(tfrecords.encode(ex)) == ex


def test_eval_batches_cover_split_once(data_dir):
    cfg = ecm_flags.defaults()
    seen = 0
    for b in pipeline.make_dataset(data_dir, "dev", cfg, training=False, batch_size=3):
        lens = b["response_len"].numpy()
        longest = max(lens.max(), b["post_len"].numpy().max())
        width = b["response"].shape[1]  # the bucket boundary (default boundaries 12, 16, 20, 30)
        assert width == b["post"].shape[1] and width in (12, 16, 20, 30) and longest < width
        assert width == 12 or longest >= [12, 16, 20, 30][[12, 16, 20, 30].index(width) - 1]
        assert (b["response"].numpy()[np.arange(len(lens)), lens - 1] == vocab_lib.EOS_ID).all()
        seen += len(lens)
    assert seen == len(ROWS) * 4


def test_training_batches_padded_to_bucket(data_dir):
    cfg = ecm_flags.defaults().replace(bucket_boundaries=["8", "16"])
    assert pipeline.boundaries(cfg) == [8, 16, 30]
    widths = set()
    for b in pipeline.make_dataset(data_dir, "train", cfg, training=True, batch_size=4).take(12):
        assert b["post"].shape[0] == 4 and b["post"].shape == b["response"].shape == b["emotion_word"].shape
        width = b["post"].shape[1]
        widths.add(width)
        longest = max(b["post_len"].numpy().max(), b["response_len"].numpy().max())
        # --bucket_lengths=original (default): length < size, so every row keeps a PAD position.
        assert longest < width and (width == 8 or longest >= [8, 16, 30][[8, 16, 30].index(width) - 1])
        assert b["emotion_word"].dtype.name == "float32" and b["emotion"].dtype.name == "int32"
    assert widths == {8, 30}


def test_single_emotion_batches_with_missing_classes(data_dir):
    cfg = ecm_flags.defaults().replace(batching="single_emotion", shuffle_buffer=16)
    assert pipeline.present_emotions(data_dir, "train") == [0, 1, 2, 5]
    drawn = set()
    for b in pipeline.make_dataset(data_dir, "train", cfg, training=True, batch_size=2).take(40):
        emo = b["emotion"].numpy()
        assert (emo == emo[0]).all()
        drawn.add(int(emo[0]))
    assert drawn == {0, 1, 2, 5}


def test_committed_fixture_is_consistent():
    import json
    import pathlib

    fixture = pathlib.Path(__file__).resolve().parents[1] / "tfrecords" / "fixture"
    stats = json.loads((fixture / "prep_stats.json").read_text(encoding="utf-8"))
    _, resp_vocab = vocab_lib.load_pair(str(fixture))
    assert ememory.load_mask(str(fixture)).shape == (6, len(resp_vocab))
    for split in ("train", "dev"):
        examples = pipeline.read_split(str(fixture), split)
        assert len(examples) == stats["splits"][split]["pairs"]
        assert all(max(len(e["post"]), len(e["response"])) < 16 for e in examples)
