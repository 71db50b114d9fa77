"""Vocabularies and the external-memory mask on a tiny corpus with hand-checked ids."""

import json
import re

import numpy as np
import pytest

from ecm_tf.data import ememory
from ecm_tf.data import lexicon
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.errors import InputError

# Counts: 我 3, then 0 2 and 开心 2 ("0" < "开心"), then 好 1 and 难过 1 (ties broken by word).
CORPUS = [["我", "开心"], ["我", "0", "难过"], ["我", "开心", "好", "0"]]


def test_build_frequency_sorted_with_specials():
    v = vocab_lib.build(CORPUS, 7)
    assert v.word_list == ["_PAD", "_UNK", "_EOS", "_GO", "我", "0", "开心"]
    assert len(v) == 7
    assert v.ids(["我", "难过", "开心", "5"]) == [4, 1, 6, 5]  # unknown -> 1; "5" normalised to "0"
    assert v.words([4, 0, 6, 2, 5]) == ["我", "开心"]  # PAD skipped, stops at EOS
    assert (vocab_lib.PAD_ID, vocab_lib.UNK_ID, vocab_lib.EOS_ID, vocab_lib.GO_ID) == (0, 1, 2, 3)


def test_ties_by_word_and_size_limit():
    v = vocab_lib.build([["b", "a", "c"], ["c"]], 6)
    assert v.word_list[4:] == ["c", "a"]
    with pytest.raises(InputError, match="--vocab_size=4"):
        vocab_lib.build(CORPUS, 4)


def test_save_load_and_missing_files(tmp_path):
    v = vocab_lib.build(CORPUS, 9)
    v.save(str(tmp_path / vocab_lib.POST_FILE))
    assert vocab_lib.WordVocabulary.load(str(tmp_path / vocab_lib.POST_FILE)).word_list == v.word_list
    with pytest.raises(InputError, match="missing vocab.response.txt"):
        vocab_lib.load_pair(str(tmp_path))
    (tmp_path / "bad.txt").write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.txt:1"):
        vocab_lib.WordVocabulary.load(str(tmp_path / "bad.txt"))


def test_ememory_mask_and_empty_class_warning(tmp_path, capsys):
    v = vocab_lib.build(CORPUS, 9)  # _PAD _UNK _EOS _GO 我 0 开心 好 难过
    lists = [["我"], ["好"], ["难过", "_UNK"], [], ["生气"], ["开心", "好"]]
    path = tmp_path / "words.json"
    path.write_text(json.dumps(lists, ensure_ascii=False), encoding="utf-8")
    mask, empty = ememory.build(v, str(path))
    expected = np.zeros([6, 9], np.uint8)
    expected[0, 4] = expected[1, 7] = expected[2, 8] = expected[5, 6] = expected[5, 7] = 1
    np.testing.assert_array_equal(mask, expected)
    assert empty == [3, 4]
    err = capsys.readouterr().err
    assert "no Disgust word" in err and "no Angry word" in err
    ememory.save(str(tmp_path), mask, v)
    np.testing.assert_array_equal(ememory.load_mask(str(tmp_path)), expected)
    saved = json.loads((tmp_path / ememory.WORDS_FILE).read_text(encoding="utf-8"))
    assert saved == [["我"], ["好"], ["难过"], [], [], ["开心", "好"]]


def test_dutir_specials_never_emotion_words():
    v = vocab_lib.WordVocabulary(list(vocab_lib.SPECIALS) + ["开心", "伤心", "桌子"])
    mask, _ = ememory.build_mask(v, lexicon.load_lexicon())
    assert not mask[:, :4].any() and not mask[:, 6].any()
    assert mask[5, 4] == 1 and mask[2, 5] == 1


def test_the_three_vocabularies_share_one_base_class(tmp_path):
    from ecm_tf.classifier.vocabulary import ClassifierVocabulary
    from ecm_tf.data.vocab import TokenVocabulary
    from ecm_tf.models.cerg import char_vocab

    word = vocab_lib.build([["好", "的", "好"]], 10)
    clf = ClassifierVocabulary.build([["好", "的", "好"]], 10, 1)
    char = char_vocab.build([list("好的好")], 30)
    for v in (word, clf, char):
        assert isinstance(v, TokenVocabulary)
        assert v.lookup(["好", "从没见过"]) == [len(v.SPECIALS), 1]  # most frequent first, unknown -> _UNK
        path = tmp_path / f"{type(v).__name__}.txt"
        TokenVocabulary.save(v, str(path))
        again = TokenVocabulary.load.__func__(type(v), str(path))
        assert again.text() == v.text() and again.sha256() == v.sha256()
        with pytest.raises(InputError, match=re.escape(f"{path}:1: not a {v.KIND}")):
            path.write_text("x\n" + v.text(), encoding="utf-8")
            TokenVocabulary.load.__func__(type(v), str(path))
