"""The judge's NLPCC split by weibo: no weibo in two splits, deterministic for a seed, extra (silver)
sentences in the train split only; the split by sentence fails the same check."""

import json

import numpy as np
import pytest

from conftest import run_cli, shared_path
from ecm_tf.classifier import data as data_lib
from ecm_tf.errors import InputError

# 40 weibos of 1 to 4 sentences; every sentence names its weibo so a test can read it back.
WORDS = {"happiness": "开心", "anger": "生气", "sadness": "难过", "disgust": "恶心", "like": "喜欢", None: "上班"}


def _weibo_xml(path, n_weibos=40, start=0):
    labels = list(WORDS)
    parts = []
    for w in range(start, start + n_weibos):
        sents = []
        for s in range(1 + w % 4):
            e = labels[(w + s) % len(labels)]
            attr = "" if e is None else f' emotion-1-type="{e}"'
            sents.append(f'<sentence id="{s + 1}"{attr}>微博{w}句{s}今天{WORDS[e]}</sentence>')
        parts.append(f'<weibo id="{w}">{"".join(sents)}</weibo>')
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<TestingData>' + "\n".join(parts) + "</TestingData>\n",
                    encoding="utf-8")
    return str(path)


def _split_weibos(groups, split):
    return [{groups[i] for i in part} for part in split]


def test_reader_names_each_sentences_weibo(tmp_path):
    path = _weibo_xml(tmp_path / "a.xml", n_weibos=3)
    rows = data_lib.read_labelled_weibos(path)
    assert [(text, w) for text, _, w in rows] == [
        ("微博0句0今天开心", f"{path}#0"),
        ("微博1句0今天生气", f"{path}#1"), ("微博1句1今天难过", f"{path}#1"),
        ("微博2句0今天难过", f"{path}#2"), ("微博2句1今天恶心", f"{path}#2"), ("微博2句2今天喜欢", f"{path}#2")]
    assert data_lib.read_labelled(path) == [(t, e) for t, e, _ in rows]


def test_same_weibo_id_in_two_files_is_two_weibos(tmp_path):
    a, b = _weibo_xml(tmp_path / "a.xml", 2), _weibo_xml(tmp_path / "b.xml", 2)
    groups = {w for _, _, w in data_lib.read_labelled_weibos(f"{a},{b}")}
    assert groups == {f"{a}#0", f"{a}#1", f"{b}#0", f"{b}#1"}


def test_weibo_without_id_and_sentence_outside_a_weibo(tmp_path):
    path = tmp_path / "x.xml"
    path.write_text('<R><weibo><sentence emotion-1-type="like">甲</sentence><sentence>乙</sentence></weibo>'
                    '<sentence emotion-1-type="anger">丙</sentence></R>', encoding="utf-8")
    rows = data_lib.read_labelled_weibos(str(path))
    assert [w for _, _, w in rows] == [f"{path}#@1", f"{path}#@1", f"{path}#~3"]


@pytest.mark.parametrize("seed", [1234, 7])
def test_split_by_weibo_keeps_every_weibo_in_one_split(tmp_path, seed):
    groups = [w for _, _, w in data_lib.read_labelled_weibos(_weibo_xml(tmp_path / "a.xml"))]
    split = data_lib.split_by_group(groups, 0.1, 0.1, seed)
    tr, dv, te = _split_weibos(groups, split)
    assert not (tr & dv) and not (tr & te) and not (dv & te)
    assert sorted(np.concatenate(split).tolist()) == list(range(len(groups)))
    # 100 sentences: test and dev take whole weibos until they hold 10 or more
    assert 10 <= len(split[2]) <= 13 and 10 <= len(split[1]) <= 13


def test_split_by_weibo_is_deterministic_and_seeded(tmp_path):
    groups = [w for _, _, w in data_lib.read_labelled_weibos(_weibo_xml(tmp_path / "a.xml"))]
    a = data_lib.split_by_group(groups, 0.1, 0.1, 1234)
    b = data_lib.split_by_group(list(groups), 0.1, 0.1, 1234)
    assert all((x == y).all() for x, y in zip(a, b))
    c = data_lib.split_by_group(groups, 0.1, 0.1, 99)
    assert set(c[2].tolist()) != set(a[2].tolist())


def test_split_by_sentence_puts_weibos_in_two_splits(tmp_path):
    """The check above fails on the old split by sentence: sisters of a test sentence train."""
    groups = [w for _, _, w in data_lib.read_labelled_weibos(_weibo_xml(tmp_path / "a.xml"))]
    tr, dv, te = _split_weibos(groups, data_lib.split(len(groups), 0.1, 0.1, 1234))
    assert tr & te


def test_split_by_weibo_refuses_too_few_weibos():
    with pytest.raises(InputError, match="too few for a train/dev/test split by weibo"):
        data_lib.split_by_group(["a", "a", "b", "b"], 0.1, 0.1, 1)
    with pytest.raises(InputError, match="clf_dev_fraction"):
        data_lib.split_by_group(["a", "b", "c"], 0.6, 0.5, 1)


def test_train_classifier_splits_by_weibo_and_silver_stays_in_train(tmp_path):
    """--mode=train_classifier: metrics.json counts weibos per split; a silver sentence equal to a
    held-out NLPCC sentence is dropped, the rest join train (the lexicon needs no training, so the
    train count is what shows where they went)."""
    xml = _weibo_xml(tmp_path / "a.xml")
    rows = data_lib.read_labelled_weibos(xml)
    groups = [w for _, _, w in rows]
    tr, dv, te = data_lib.split_by_group(groups, 0.1, 0.1, 1234)
    held = rows[te[0]][0]
    silver = tmp_path / "silver.tsv"
    silver.write_text(f"label\ttext\n1\t{held}\n5\t全新 的 句子 开心\n2\t又 一句 难过\n", encoding="utf-8")
    out = tmp_path / "clf"
    proc = run_cli("--mode=train_classifier", "--classifier=lexicon", f"--input={xml}", f"--model_dir={out}",
                   f"--clf_extra_train={silver}")
    assert proc.returncode == 0, proc.stderr
    m = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert m["split"]["by"] == "weibo"
    assert (m["split"]["train"], m["split"]["dev"], m["split"]["test"]) == (len(tr) + 2, len(dv), len(te))
    assert m["split"]["weibos"] == {"train": len({groups[i] for i in tr}), "dev": len({groups[i] for i in dv}),
                                    "test": len({groups[i] for i in te})}
    assert sum(m["split"]["weibos"].values()) == 40
    assert m["extra_train"][0]["kept"] == 2 and m["extra_train"][0]["dropped_as_dev_or_test"] == 1


def test_real_nlpcc_split_by_weibo():
    nlpcc = ",".join(str(shared_path("nlpcc_emotion", f)) for f in ("nlpcc2013_train.xml", "nlpcc2014_sample.xml"))
    rows = data_lib.read_labelled_weibos(nlpcc)
    groups = [w for _, _, w in rows]
    split = data_lib.split_by_group(groups, 0.1, 0.1, 1234)
    tr, dv, te = _split_weibos(groups, split)
    assert not (tr & dv) and not (tr & te) and not (dv & te)
    assert len(tr) + len(dv) + len(te) == len(set(groups)) > 4000
    assert abs(len(split[2]) - 0.1 * len(rows)) < 20  # whole weibos of a few sentences each
