"""--mode=prep: library function on a tiny corpus, the CLI, and failure without output."""

import json
import os

import pytest

from conftest import run_cli, shared_path, prepare_data
from ecm_tf import flags as ecm_flags
from ecm_tf.data import prep
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError

TINY = "\n".join([
    "今天 天气 真 好\t是 啊 我 很 开心\tHappy",
    "我 的 猫 丢 了\t别 难过 ， 会 找到 的\tSad",
    "你 在 干 什么\t在 看 书 呢",
    " ".join(["长"] * 30) + "\t太 长 了\tOther",
    "http://t.cn/abc\t这 是 什么\tOther",
    "明天 见\t明天 见 2018 年",
]) + "\n"


def _cfg(tmp_path, **kw):
    src = tmp_path / "tiny.tsv"
    src.write_text(TINY, encoding="utf-8")
    values = dict(input=str(src), output_dir=str(tmp_path / "out"), num_shards=2, dev_fraction=0.0)
    values.update(kw)
    return ecm_flags.defaults().replace(**values)


def test_prepare_tiny_corpus(tmp_path):
    cfg = _cfg(tmp_path)
    stats = prepare_data(cfg)
    assert stats["kept"] == 4
    assert stats["dropped"] == {"post_too_long": 1, "empty_post": 1}
    assert stats["labels"] == {"file": 4, "lexicon_classifier": 2}
    assert stats["splits"]["train"]["emotions"]["Happy"] == 1 and stats["splits"]["dev"]["pairs"] == 0
    out = tmp_path / "out"
    names = sorted(os.listdir(out))
    assert names == ["config.json", "dev-00000-of-00001.tfrecord", "ememory.json", "ememory.npy", "interaction.json", "prep_stats.json",
                     "train-00000-of-00002.tfrecord", "train-00001-of-00002.tfrecord",
                     "vocab.post.txt", "vocab.response.txt"]
    vocab = (out / "vocab.response.txt").read_text(encoding="utf-8").split("\n")
    assert vocab[:4] == ["_PAD", "_UNK", "_EOS", "_GO"] and "0000" in vocab and "2018" not in vocab
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["output_dir"] == str(out)


def test_char_level_tokens():
    assert prep.tokenize("今天好开心 ok 2018", "char") == ["今", "天", "好", "开", "心", "ok", "0000"]


def test_hold_out_by_post_is_deterministic():
    records = [{"post_text": f"p{i % 10}"} for i in range(100)]
    train, dev = prep.hold_out(records, 0.2, seed=1)
    assert len(dev) == 20 and len(train) == 80
    assert not {r["post_text"] for r in dev} & {r["post_text"] for r in train}
    assert prep.hold_out(records, 0.2, seed=1)[1] == dev


def test_rerun_with_fewer_shards_removes_old_shards(tmp_path):
    prepare_data(_cfg(tmp_path, num_shards=3))
    prepare_data(_cfg(tmp_path, num_shards=1))
    assert [os.path.basename(f) for f in tfrecords.split_files(str(tmp_path / "out"), "train")] == [
        "train-00000-of-00001.tfrecord"]


def test_vocab_dir_reuse_and_missing_file(tmp_path):
    first = prepare_data(_cfg(tmp_path))
    again = prepare_data(_cfg(tmp_path, output_dir=str(tmp_path / "b"), vocab_dir=str(tmp_path / "out")))
    assert again["vocab"]["response"] == first["vocab"]["response"]
    os.remove(tmp_path / "out" / "vocab.post.txt")
    with pytest.raises(InputError, match="missing vocab.post.txt"):
        prepare_data(_cfg(tmp_path, output_dir=str(tmp_path / "c"), vocab_dir=str(tmp_path / "out")))
    assert not (tmp_path / "c").exists()


def test_classifier_data_and_bad_label_source_refused(tmp_path):
    xml = tmp_path / "x.xml"
    xml.write_text('<weibos><weibo><sentence>好</sentence></weibo></weibos>', encoding="utf-8")
    with pytest.raises(InputError, match="classifier data"):
        prepare_data(_cfg(tmp_path, input=str(xml)))
    with pytest.raises(InputError, match="--label_source=nowhere"):
        prepare_data(_cfg(tmp_path, label_source="nowhere"))


def test_cli_tiny_corpus(tmp_path):
    src = tmp_path / "tiny.tsv"
    src.write_text(TINY, encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("--mode=prep", f"--input={src}", f"--output_dir={out}", "--dev_fraction=0.3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "kept 4 pairs, dropped 2"
    stats = json.loads((out / "prep_stats.json").read_text(encoding="utf-8"))
    assert stats["kept"] == 4 and stats["splits"]["dev"]["pairs"] >= 1


def test_cli_estc_sample(tmp_path):
    src = shared_path("estc_sample", "ecm_sample.json")
    proc = run_cli("--mode=prep", f"--input={src}", f"--output_dir={tmp_path / 'o'}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "kept 173 pairs, dropped 0"
    stats = json.loads((tmp_path / "o" / "prep_stats.json").read_text(encoding="utf-8"))
    assert sum(stats["emotions"].values()) == 173 and stats["labels"] == {"file": 173}


def test_cli_bad_input_exits_2_without_output(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[[["a", 0], ["b", 7]]]', encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("--mode=prep", f"--input={bad}", f"--output_dir={out}")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.json record 1" in lines[0] and "unknown emotion 7" in lines[0]
    assert not out.exists()
