"""Corpus readers on the real samples and on hand-made malformed files."""

import json

import pytest

from conftest import shared_path
from ecm_tf.data import readers
from ecm_tf.errors import InputError


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_ecm_sample():
    pairs = readers.read_corpus(str(shared_path("estc_sample", "ecm_sample.json")))
    assert len(pairs) == 173
    first = pairs[0]
    assert first.post.startswith("# 不 出门")
    assert (first.response, first.response_emotion, first.post_emotion) == ("差 最后 一 个 向 全 中 努力 ！", 1, 3)
    assert first.where.endswith("record 1 response 1")


def test_lccc_toy_rejoined():
    path = str(shared_path("lccc_toy", "toy_train.txt"))
    assert readers.detect_format(path) == "lccc"
    pairs = readers.read_corpus(path)
    assert len(pairs) == 10000
    assert pairs[1].post == "我也要去健身懒半年了"
    assert pairs[1].response_emotion is None and pairs[1].where.endswith(":2")


def test_nlpcc_xml_sentences():
    pairs = readers.read_corpus(str(shared_path("nlpcc_emotion", "nlpcc2014_sample.xml")))
    assert pairs and all(p.post == "" and 0 <= p.response_emotion <= 5 for p in pairs)


def test_pairs_format_one_and_two_labels(tmp_path):
    one = _write(tmp_path, "a.json", json.dumps([[["你好", 0], ["好 开心", 5]]], ensure_ascii=False))
    two = _write(tmp_path, "b.json", json.dumps([[["你好", 1, 4], ["难过", 2, 0]]], ensure_ascii=False))
    (a,), (b,) = readers.read_corpus(one), readers.read_corpus(two)
    assert (a.post, a.post_emotion, a.response, a.response_emotion) == ("你好", 0, "好 开心", 5)
    assert (b.post_emotion, b.response_emotion) == (1, 2)


def test_tsv_with_names_and_ids(tmp_path):
    path = _write(tmp_path, "c.tsv", "今天 天气 好\t是 啊 开心\tHappy\n\n你 是 谁\t我 是 我\t2\n怎么 了\t没事\n")
    pairs = readers.read_corpus(path)
    assert [p.response_emotion for p in pairs] == [5, 2, None]
    assert pairs[2].where.endswith(":4")


def test_write_pairs_json_round_trip(tmp_path):
    src = readers.read_corpus(_write(tmp_path, "d.tsv", "你好\t开心 啊\tHappy\n再见\t好\n"))
    out = str(tmp_path / "out.json")
    readers.write_pairs_json(out, src)
    back = readers.read_corpus(out)
    assert [(p.post, p.post_emotion, p.response, p.response_emotion) for p in back] == [
        ("你好", 0, "开心 啊", 5), ("再见", 0, "好", 0)]


@pytest.mark.parametrize("name,content,where,what", [
    ("bad.json", '[[["a", 0],\n ["b", 1]]\n', "bad.json:3", "malformed JSON"),
    ("nest.json", '[[["a", 0], ["b", 1]], [["c", 0]]]', "nest.json record 2", "expected"),
    ("ecm.json", '[[["a", 0, 0], [["b", 1, 1], ["c", 9, 0]]]]', "ecm.json record 1 response 2", "unknown emotion 9"),
    ("label.json", '[[["a", 0], ["b", "x"]]]', "label.json record 1", "label must be an integer"),
    ("empty.json", '[[["a", 0], ["b", 1]], [["", 0], ["c", 1]]]', "empty.json record 2", "empty post"),
    ("resp.json", '[[["a", 0, 0], [[" ", 1, 1]]]]', "resp.json record 1 response 1", "empty response"),
    ("cols.tsv", "a\tb\nonly one column\n", "cols.tsv:2", "column"),
    ("emo.tsv", "a\tb\tFear\n", "emo.tsv:1", "unknown emotion"),
    ("blank.tsv", "a\tb\n\t c\n", "blank.tsv:2", "empty post"),
    ("utf.tsv", "a\tb\n".encode() + b"\xff\xfe\tx\n", "utf.tsv:2", "invalid UTF-8"),
    ("utf.json", b'[[["a", 0],\n ["\xc3", 1]]]', "utf.json:2", "invalid UTF-8"),
])
def test_malformed_inputs_name_file_and_place(tmp_path, name, content, where, what):
    path = _write(tmp_path, name, content)
    with pytest.raises(InputError) as e:
        readers.read_corpus(path)
    message = str(e.value)
    assert where in message and what in message and "\n" not in message
