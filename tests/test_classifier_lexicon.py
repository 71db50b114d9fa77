"""Lexicon classifier (ECM Table 2, row 1) on hand-made sentences with known answers."""

import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf import emotions as E
from ecm_tf.classifier import predictor
from ecm_tf.classifier.lexicon import LexiconClassifier


@pytest.fixture(scope="module")
def clf():
    return LexiconClassifier()


@pytest.mark.parametrize("sentence, expected", [
    ("我 真的 很 喜欢 这 首 歌", E.LIKE),
    ("听到 这个 消息 我 很 难过", E.SAD),
    ("这种 行为 让 人 愤怒", E.ANGRY),
    ("这 东西 真 恶心", E.DISGUST),
    ("今天 很 高兴", E.HAPPY),
    ("明天 去 上班", E.OTHER),            # no lexicon word -> Other
    ("开心", E.HAPPY),                    # listed as Happy and Disgust: the tie goes to Happy
    ("喜欢 喜欢 难过", E.LIKE),            # two Like words beat one Sad word
    ("喜欢 愤怒", E.ANGRY),                # one each: the rarer class (Angry) wins the tie
])
def test_known_answers(clf, sentence, expected):
    assert clf.predict([sentence]) == [expected]


def test_counts(clf):
    counts = clf.counts(["喜欢", "漂亮", "难过", "上班"])
    assert counts == {E.LIKE: 2, E.SAD: 1, E.DISGUST: 0, E.ANGRY: 0, E.HAPPY: 0}


def test_raw_text_is_segmented(clf):
    assert clf.predict(["我很难过"]) == [E.SAD]


def test_load_classifier_gives_the_lexicon_for_a_lexicon_folder(tmp_path):
    ecm_flags.defaults().replace(classifier="lexicon").save(tmp_path)
    loaded = predictor.load_classifier(str(tmp_path))
    assert isinstance(loaded, LexiconClassifier)
    assert loaded.predict(["今天 很 高兴", "明天 去 上班"]) == [E.HAPPY, E.OTHER]
