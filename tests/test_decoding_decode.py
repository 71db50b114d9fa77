"""--mode=decode on a tiny model over the committed fixture: format, consistency, one-line errors."""

import json

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO
from ecm_tf.models.ecm import family as ecm_family
from ecm_tf import flags as ecm_flags
from ecm_tf.decoding import decode as decode_lib
from ecm_tf.models.ecm.generator import bucket_length, post_tokens
from ecm_tf.errors import InputError
from ecm_tf.models.ecm import factory

FIXTURE = REPO / "tfrecords" / "fixture"


def make_model_dir(folder, **changes):
    """A tiny ECM with random weights saved like --mode=train does (config.json + checkpoint)."""
    cfg = ecm_flags.defaults().replace(data_dir=str(FIXTURE), model_dir=str(folder), embed_dim=8, hidden=8,
                                    emotion_dim=4, num_layers=2, beam_size=4, top_k=3, **changes)
    tf.keras.utils.set_random_seed(0)
    model = factory.build_model(cfg, cfg.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    cfg.replace(post_vocab_size=model.post_vocab_size, response_vocab_size=model.response_vocab_size).save(folder)
    tf.train.Checkpoint(model=model).save(str(folder / "ckpt"))
    return cfg


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decode") / "model"
    make_model_dir(folder)
    return folder


def test_bucket_length_follows_original_rule():
    bounds = [12, 16, 20, 30]
    assert [bucket_length(n, bounds) for n in (1, 11, 12, 15, 16, 29, 40)] == [12, 12, 16, 16, 20, 30, 30]


def test_decode_writes_top_k_and_scores_match_teacher_forcing(model_dir, tmp_path):
    posts = tmp_path / "posts.txt"
    posts.write_text("你 没有 任何 意义\n\n今天天气真好\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    cfg = ecm_flags.defaults().replace(model_dir=str(model_dir), input=str(posts), output=str(out),
                                    emotion="Sad,Happy", beam_size=4, top_k=3)
    decode_lib.run(cfg)
    lines = [json.loads(l) for l in out.read_text(encoding="utf-8").splitlines()]
    assert [(l["post"].replace(" ", ""), l["emotion"]) for l in lines] == [
        ("你没有任何意义", "Sad"), ("你没有任何意义", "Happy"), ("今天天气真好", "Sad"), ("今天天气真好", "Happy")]
    assert lines[0]["post"] == "你 没有 任何 意义" and " " in lines[2]["post"]  # kept / jieba-segmented
    assert (tmp_path / "out.jsonl.config.json").exists()
    generator, model_cfg = ecm_family.load_generator(cfg)
    for l in lines:
        assert len(l["responses"]) == 3 and l["response"] == l["responses"][0]["response"]
        scores = [r["score"] for r in l["responses"]]
        assert "_UNK" not in l["response"] and "_PAD" not in l["response"]
        assert scores == sorted(scores, reverse=True)
        # The beam score is the teacher-forced log-probability of the response, + EOS when it
        # ended (a 4-word post is in bucket 12: at most 11 tokens, EOS included, as the original;
        # 11 words without EOS means it never ended).
        words = l["response"].split()
        assert len(words) <= 11
        response = generator.response_vocab.ids(words)
        ended = len(words) < 11
        post = generator.post_vocab.ids(l["post"].split())
        batch = {"post": np.array([post], np.int32), "post_len": np.array([len(post)], np.int32),
                 "response": np.array([response + ([2] if ended else [])], np.int32),
                 "emotion": np.array([2 if l["emotion"] == "Sad" else 5], np.int32)}
        tlp = generator.model(batch)["target_log_probs"].numpy()
        np.testing.assert_allclose(tlp.sum(), l["score"], atol=2e-3)


def test_decode_bad_input_raises_input_error(model_dir, tmp_path):
    posts = tmp_path / "posts.txt"
    posts.write_text("你好\nhttp://t.cn/abc\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(model_dir=str(model_dir), input=str(posts), emotion="Sad")
    decode_lib.run(cfg)  # the URL-only post gets an empty response and a warning; the run goes on
    with pytest.raises(InputError, match="unknown emotion"):
        decode_lib.run(cfg.replace(emotion="Bored"))
    with pytest.raises(InputError, match="no such folder"):
        decode_lib.run(cfg.replace(model_dir=str(tmp_path / "nope")))
    posts.write_text("你好\n", encoding="utf-8")
    empty = tmp_path / "empty_model"
    empty.mkdir()
    (empty / "config.json").write_text((model_dir / "config.json").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="no checkpoint"):
        decode_lib.run(cfg.replace(model_dir=str(empty)))


def test_long_post_is_truncated_with_a_note(capsys):
    cfg = ecm_flags.defaults()
    tokens = post_tokens(" ".join(["我"] * 35), cfg, "<stdin>:1")
    assert tokens == ["我"] * 29
    assert "<stdin>:1: post has 35 tokens; truncated to 29 (--max_post_len=30)" in capsys.readouterr().err


def test_decode_format_tsv_prints_post_emotion_response(model_dir, tmp_path, capsys):
    posts = tmp_path / "posts.txt"
    posts.write_text("今天天气真好\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(model_dir=str(model_dir), input=str(posts), emotion="Sad,Happy",
                                       decode_format="tsv")
    decode_lib.run(cfg)
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(r[0].replace(" ", ""), r[1]) for r in rows] == [("今天天气真好", "Sad"), ("今天天气真好", "Happy")]
    decode_lib.run(cfg.replace(decode_format="jsonl"))
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[r["post"], r["emotion"], r["response"]] for r in records] == rows


def teacher_forced(generator, post_words, response_words, emotion, ended=True):
    post = generator.post_vocab.ids(post_words)
    response = generator.response_vocab.ids(response_words) + ([2] if ended else [])
    batch = {"post": np.array([post], np.int32), "post_len": np.array([len(post)], np.int32),
             "response": np.array([response], np.int32), "emotion": np.array([emotion], np.int32)}
    return float(generator.model(batch)["target_log_probs"].numpy().sum())


def test_min_decode_len_from_the_model_folder_unless_given(model_dir, tmp_path):
    """A folder trained with --min_decode_len=3 decodes with it (config.json, DECODE_DEFAULTS); an
    explicit --min_decode_len wins; the default (1) is the original search."""
    from ecm_tf import config

    folder = tmp_path / "min3"
    make_model_dir(folder, min_decode_len=3)  # the same seed: the weights of `model_dir`
    post = "今天 天气 真 好".split()
    generator, model_cfg = ecm_family.load_generator(ecm_flags.defaults().replace(model_dir=str(folder)))
    assert model_cfg.min_decode_len == 3
    got = generator.decode([post], [2, 5])
    for e in (2, 5):
        for words, score in got[(0, e)]:
            assert len(words) >= 3
            ended = len(words) < 11  # a 4-word post: bucket 12, at most 11 tokens with EOS
            np.testing.assert_allclose(teacher_forced(generator, post, words, e, ended), score, atol=2e-3)
    explicit = config.Config(ecm_flags.defaults().replace(model_dir=str(folder), min_decode_len=1).to_dict(),
                             ["min_decode_len"])
    plain, plain_cfg = ecm_family.load_generator(explicit)
    original, _ = ecm_family.load_generator(ecm_flags.defaults().replace(model_dir=str(model_dir)))
    assert plain_cfg.min_decode_len == 1
    assert plain.decode([post], [2, 5]) == original.decode([post], [2, 5])
