"""Emotion mapping, text normalisation, frozen config and atomic output."""

import json
import os

import pytest

from ecm_tf import emotions, io_utils
from ecm_tf import flags as ecm_flags
from ecm_tf.data import text
from ecm_tf.errors import InputError
from ecm_tf.models import registry


def test_emotion_ids_follow_the_release_order():
    assert emotions.NAMES == ("Other", "Like", "Sad", "Disgust", "Angry", "Happy")
    assert [emotions.emotion_id(n) for n in ("other", "Like", "SAD", "disgust", "angry", "happy")] == list(range(6))
    assert emotions.emotion_id("3") == 3 and emotions.emotion_id(5) == 5
    assert emotions.emotion_id("sadness") == emotions.SAD and emotions.emotion_id("none") == emotions.OTHER


@pytest.mark.parametrize("bad", ["Joy", "6", -1, 6, "", True])
def test_unknown_emotion_names_the_flag(bad):
    with pytest.raises(InputError, match=r"--emotion: unknown emotion"):
        emotions.emotion_id(bad, "--emotion")


def test_nlpcc_and_dutir_mappings():
    assert emotions.NLPCC_TO_ID["fear"] is None and emotions.NLPCC_TO_ID["surprise"] is None
    assert emotions.NLPCC_TO_ID["none"] == emotions.OTHER
    assert emotions.DUTIR_TO_ID == {"乐": 5, "好": 1, "怒": 4, "哀": 2, "恶": 3, "惧": 0, "惊": 0}
    assert emotions.parse_emotion_list("all") == [1, 2, 3, 4, 5]
    assert emotions.parse_emotion_list("Sad,Happy") == [2, 5]


def test_clean_caps_repeats_and_removes_urls_and_mentions():
    assert text.clean("哈哈哈哈哈哈 http://t.cn/xyz 好 @小明： 啊") == "哈哈哈 好 啊"
    assert text.cap_repeats("！！！！！") == "！！！"
    assert text.normalize_digits("2018年3月") == "0000年0月"


def test_segment_passes_segmented_text_through_and_splits_raw_text():
    assert text.segment("今天 天气 很 好") == ["今天", "天气", "很", "好"]
    raw = text.segment("今天天气很好")
    assert "".join(raw) == "今天天气很好" and len(raw) > 1
    assert text.segment("你好abc 12", level="char") == ["你", "好", "abc", "12"]
    assert text.segment("   ") == [] and text.segment("http://x.cn") == []


def test_join_chars_undoes_lccc_split_but_keeps_ascii_words_apart():
    assert text.join_chars("为 什 么 听 a b c 一") == "为什么听a b c一"
    assert text.join_chars("我 用 iPhone 拍 的") == "我用iPhone拍的"


def test_config_is_frozen_and_round_trips(tmp_path):
    cfg = ecm_flags.defaults()
    assert cfg.vocab_size == 40000 and cfg.batch_size == 128 and cfg.learning_rate == 0.5
    with pytest.raises(AttributeError, match="frozen"):
        cfg.batch_size = 1
    changed = cfg.replace(hidden=32)
    assert changed.hidden == 32 and cfg.hidden == 256
    model_dir = tmp_path / "m"
    changed.replace(model_dir=str(model_dir)).save(str(model_dir))
    reloaded = registry.model_settings(cfg, str(model_dir))
    assert reloaded.hidden == 32 and reloaded.batch_size == cfg.batch_size
    with pytest.raises(InputError, match="no such folder"):
        registry.model_settings(cfg, str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no config.json"):
        registry.model_settings(cfg, str(tmp_path / "empty"))


def test_atomic_open_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with io_utils.atomic_open(target) as f:
            f.write("half")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []
    io_utils.write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1} and os.listdir(tmp_path) == ["out.json"]


def test_read_lines_names_the_line_with_invalid_utf8(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes("好\n".encode() + b"\xff\xfe\n")
    with pytest.raises(InputError, match=r"bad.txt:2: invalid UTF-8"):
        io_utils.read_lines(str(path))


def test_atomic_output_gets_the_usual_file_mode(tmp_path):
    old = os.umask(0o022)
    try:
        io_utils.write_json(tmp_path / "x.json", {})
    finally:
        os.umask(old)
    assert (os.stat(tmp_path / "x.json").st_mode & 0o777) == 0o644


def test_config_remembers_which_flags_were_given():
    from ecm_tf import flags as ecm_flags

    fv = ecm_flags.FLAGS
    saved = fv["beam_size"].value, fv["beam_size"].present
    try:
        fv["beam_size"].parse("2")
        cfg = ecm_flags.settings()
    finally:
        fv["beam_size"].value, fv["beam_size"].present = saved
    assert cfg.beam_size == 2 and cfg.is_set("beam_size") and not cfg.is_set("batch_size")
    assert cfg.replace(hidden=8).is_set("beam_size")
