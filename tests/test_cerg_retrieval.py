"""BM25 retrieval (rank-bm25) and the rerank of beam candidates."""

import pytest

from ecm_tf.models.cerg import retrieval
from ecm_tf.errors import InputError


def test_char_f1_hand_computed():
    assert retrieval.char_f1(list("好开心"), list("开心呀")) == pytest.approx(2 / 3)  # P = R = 2/3
    assert retrieval.char_f1(list("哈哈"), list("哈")) == pytest.approx(2 * 0.5 * 1.0 / 1.5)
    assert retrieval.char_f1(list("好"), list("坏")) == 0.0
    assert retrieval.char_f1([], list("坏")) == 0.0


def test_bm25_retrieves_the_nearest_posts():
    index = retrieval.Bm25Index(
        [list("今天天气真好"), list("我的猫生病了"), list("晚饭吃什么"), list("工作好累")],
        [list("出去走走吧"), list("快带它去看医生"), list("吃火锅吧"), list("早点休息")])
    assert index.retrieve(list("我家的猫病了"), 2)[0] == 1
    assert index.retrieved_responses(list("今天天气不错"), 1) == [list("出去走走吧")]


def test_rerank_picks_the_candidate_closer_to_the_retrieved_responses():
    retrieved = [list("快带它去看医生"), list("多喝水")]
    candidates = [(list("哈哈哈"), -2.0, 4), (list("带它去看医生吧"), -4.8, 8)]
    best, scored = retrieval.rerank(candidates, retrieved, weight=1.0)
    assert best == 1
    assert scored[0]["score"] == pytest.approx(-0.5)
    assert scored[1]["similarity"] == pytest.approx(2 * (6 / 7) * (6 / 7) / (12 / 7))
    assert scored[1]["score"] == pytest.approx(-0.6 + scored[1]["similarity"])
    # With retrieval weight 0 the beam score alone decides.
    assert retrieval.rerank(candidates, retrieved, weight=0.0)[0] == 0


def test_index_round_trip(tmp_path):
    index = retrieval.Bm25Index([list("今天好"), ["ok", "了"]], [list("是啊"), ["ok", "吧"]])
    index.save(tmp_path)
    again = retrieval.Bm25Index.load(tmp_path)
    assert again.posts == index.posts and again.responses == index.responses
    assert again.retrieve(list("今天"), 1) == index.retrieve(list("今天"), 1)


def test_missing_or_bad_index_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no retrieval_index.json"):
        retrieval.Bm25Index.load(tmp_path)
    (tmp_path / retrieval.FILE).write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="not a retrieval index"):
        retrieval.Bm25Index.load(tmp_path)
