"""Classifier data: NLPCC XML without labels, the seeded 8:1:1 split, vocabulary, weights, metrics."""

import numpy as np
import pytest

from ecm_tf import emotions as E
from ecm_tf.classifier import data as data_lib
from ecm_tf.classifier import metrics
from ecm_tf.classifier.vocabulary import ClassifierVocabulary
from ecm_tf.errors import InputError

XML = """<?xml version="1.0" encoding="UTF-8"?>
<TestingData>
<weibo id="1">
<sentence id="1" opinionated="Y" emotion-1-type="happiness" emotion-2-type="none">今天真开心</sentence>
<sentence id="2" opinionated="N">明天去上班</sentence>
<sentence id="3" opinionated="Y" emotion-1-type="fear" emotion-2-type="none">好可怕</sentence>
</weibo>
<weibo id="2">
<sentence id="1" opinionated="Y" emotion-1-type="anger">气死我了</sentence>
<sentence id="2" opinionated="N" emotion-1-type="none">吃饭了</sentence>
</weibo>
</TestingData>
"""


def test_xml_without_labels_is_other_and_fear_dropped(tmp_path):
    path = tmp_path / "a.xml"
    path.write_text(XML, encoding="utf-8")
    got = data_lib.read_labelled(str(path))
    assert got == [("今天真开心", E.HAPPY), ("明天去上班", E.OTHER), ("气死我了", E.ANGRY), ("吃饭了", E.OTHER)]


def test_malformed_xml_names_the_file(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_text("<a><sentence>x</a>", encoding="utf-8")
    with pytest.raises(InputError, match="bad.xml"):
        data_lib.read_labelled(str(path))
    with pytest.raises(InputError, match="--input"):
        data_lib.read_labelled("")


def test_split_is_deterministic_disjoint_and_8_1_1():
    tr, dv, te = data_lib.split(1000, 0.1, 0.1, seed=7)
    assert (len(tr), len(dv), len(te)) == (800, 100, 100)
    assert sorted(np.concatenate([tr, dv, te]).tolist()) == list(range(1000))
    again = data_lib.split(1000, 0.1, 0.1, seed=7)
    assert all((a == b).all() for a, b in zip((tr, dv, te), again))
    assert not (data_lib.split(1000, 0.1, 0.1, seed=8)[2] == te).all()
    with pytest.raises(InputError, match="clf_dev_fraction"):
        data_lib.split(1000, 0.6, 0.5, seed=7)


def test_tokenize_caps_length_and_normalises_digits():
    assert data_lib.tokenize("我 有 3 个 苹果 和 25 个 梨", 5) == ["我", "有", "0", "个", "苹果"]


def test_vocabulary_min_count_order_and_hash():
    v = ClassifierVocabulary.build([["b", "a", "a"], ["c", "b", "a"]], max_size=10, min_count=2)
    assert v.words == ["_PAD", "_UNK", "a", "b"]
    assert v.encode(["a", "c", "b"]) == [2, 1, 3]
    assert ClassifierVocabulary.build([["a", "b", "b"]], max_size=3, min_count=1).words == ["_PAD", "_UNK", "b"]
    assert v.sha256() != ClassifierVocabulary(["_PAD", "_UNK", "b", "a"]).sha256()


def test_pad_and_length_batches():
    assert data_lib.pad([[1, 2], [], [3]]).tolist() == [[1, 2], [0, 0], [3, 0]]
    batches = data_lib.length_batches([5, 1, 3, 2], batch_size=2)
    assert [b.tolist() for b in batches] == [[1, 3], [2, 0]]
    shuffled = data_lib.length_batches([5, 1, 3, 2, 4], 2, np.random.RandomState(0))
    assert sorted(np.concatenate(shuffled).tolist()) == [0, 1, 2, 3, 4]


def test_balanced_class_weights():
    w = data_lib.class_weights([0, 0, 0, 1], num_classes=3, mode="balanced")
    np.testing.assert_allclose(w, [4 / 9, 4 / 3, 0.0], rtol=1e-6)
    np.testing.assert_allclose(data_lib.class_weights([0, 1], 3, "none"), [1, 1, 1])


def test_metrics_against_hand_computed_values():
    gold = [0, 0, 0, 1, 1, 2]
    pred = [0, 0, 1, 1, 2, 2]
    m = metrics.evaluate(gold, pred)
    # F1: Other 2*2/(2+3)=0.8, Like 2*1/(2+2)=0.5, Sad 2*1/(2+1)=2/3, the other three 0.
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert m["f1"]["Other"] == pytest.approx(0.8) and m["f1"]["Like"] == pytest.approx(0.5)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 6, abs=1e-4)
    assert m["confusion"][0][:3] == [2, 1, 0]
    base = metrics.majority_baseline([1, 1, 0], gold)
    assert base["label"] == "Like" and base["accuracy"] == pytest.approx(2 / 6, abs=1e-4)
