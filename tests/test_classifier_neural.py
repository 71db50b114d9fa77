"""RNN / LSTM / Bi-LSTM classifiers: overfitting a tiny set, SavedModel export, vocabulary checks."""

import pytest

from conftest import assert_loaders_agree, load_both_ways, load_both_ways_many

from ecm_tf import flags as ecm_flags
from ecm_tf import emotions as E
from ecm_tf.classifier import data as data_lib
from ecm_tf.classifier import predictor
from ecm_tf.classifier import train
from ecm_tf.classifier.recurrent_classifier import RecurrentClassifier
from ecm_tf.classifier.vocabulary import ClassifierVocabulary
from ecm_tf.errors import InputError

# Twelve segmented sentences, two per emotion.
SENTENCES = [
    ("明天 去 上班", E.OTHER), ("我们 下午 开会", E.OTHER),
    ("我 喜欢 这 首 歌", E.LIKE), ("这 衣服 真 漂亮", E.LIKE),
    ("我 很 难过", E.SAD), ("心里 好 伤心", E.SAD),
    ("这 东西 真 恶心", E.DISGUST), ("讨厌 这种 人", E.DISGUST),
    ("气死 我 了", E.ANGRY), ("太 愤怒 了", E.ANGRY),
    ("今天 很 高兴", E.HAPPY), ("哈哈 开心 死 了", E.HAPPY),
]


def _cfg(kind):
    return ecm_flags.defaults().replace(classifier=kind, clf_embed_dim=16, clf_hidden=16, clf_dropout=0.0,
                                     clf_epochs=30, clf_batch_size=12, clf_learning_rate=0.05, seed=3)


def _data():
    tokens = [data_lib.tokenize(s, 64) for s, _ in SENTENCES]
    labels = [e for _, e in SENTENCES]
    vocab = ClassifierVocabulary.build(tokens, max_size=100, min_count=1)
    return vocab, [vocab.encode(t) for t in tokens], labels


@pytest.fixture(scope="module")
def trained():
    """kind -> (cfg, vocab, model, history), each trained once on the twelve sentences."""
    cache = {}

    def get(kind):
        if kind not in cache:
            vocab, ids, labels = _data()
            model, history = train.fit(_cfg(kind), ids, labels, ids, labels, len(vocab), log=lambda m: None)
            cache[kind] = (_cfg(kind), vocab, model, history)
        return cache[kind]

    return get


@pytest.mark.parametrize("kind", ["rnn", "lstm", "bilstm"])
def test_overfits_twelve_sentences(trained, kind):
    _, _, model, history = trained(kind)
    _, ids, labels = _data()
    assert train.predict_ids(train.logits_function(model), ids) == labels
    assert history["epochs"][history["best_epoch"] - 1]["dev_macro_f1"] == 1.0


def test_get_config_round_trip():
    model = RecurrentClassifier("bilstm", 20, 8, 4, 0.1)
    clone = RecurrentClassifier.from_config(model.get_config())
    assert (clone.kind, clone.vocab_size, clone.embed_dim, clone.hidden, clone.dropout_rate) == ("bilstm", 20, 8, 4, 0.1)


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("clf")
    cfg, vocab, model, _ = trained("lstm")
    assert train.export(model, vocab, str(folder)) == str(folder / "saved_model" / "1")
    cfg.replace(model_dir=str(folder), clf_vocab_words=len(vocab), clf_vocab_sha256=vocab.sha256()).save(str(folder))
    _, ids, _ = _data()
    return folder, train.predict_ids(train.logits_function(model), ids)


def test_saved_model_predicts_like_the_keras_model(exported):
    folder, keras_labels = exported
    clf = predictor.load_classifier(str(folder))
    assert clf.predict([s for s, _ in SENTENCES]) == keras_labels == [e for _, e in SENTENCES]
    assert clf.predict(["", "今天 很 高兴"])[0] == E.OTHER


def test_saved_model_runs_under_the_session_loader(exported, trained):
    """TF Serving's loader (restore op + Session.run) gives the labels and logits of tf.saved_model.load."""
    folder, keras_labels = exported
    _, ids, _ = _data()
    width = max(map(len, ids))
    both = load_both_ways(folder / "saved_model" / "1", "serving_default",
                          {"ids": [row + [0] * (width - len(row)) for row in ids]})
    assert_loaders_agree(both)
    assert both["session"]["label"] == keras_labels


def test_saved_model_answers_zero_sentences(exported):
    folder, _ = exported
    (both,) = load_both_ways_many(folder / "saved_model" / "1", "serving_default", [{"ids": {"zeros": [0, 4]}}])
    assert both["session"] == both["tf2"] == {"label": [], "logits": [], "probabilities": []}
    assert both["session_shapes"] == {"label": [0], "logits": [0, 6], "probabilities": [0, 6]}


def test_retraining_adds_a_version(exported, trained, tmp_path):
    import shutil

    folder, _ = exported
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    _, vocab, model, _ = trained("lstm")
    assert train.export(model, vocab, str(copy)) == str(copy / "saved_model" / "2")
    assert (copy / "saved_model" / "1" / "saved_model.pb").exists()  # the served version is left alone
    assert predictor.load_classifier(str(copy)).predict(["我 很 难过"]) == [E.SAD]


def test_edited_vocabulary_is_refused(exported, tmp_path):
    folder, _ = exported
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    vocab_file = copy / "vocab.txt"
    words = vocab_file.read_text(encoding="utf-8").splitlines()
    words[2], words[3] = words[3], words[2]
    vocab_file.write_text("\n".join(words) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="not the vocabulary this classifier was trained with"):
        predictor.load_classifier(str(copy))


def test_swapped_saved_model_is_refused(exported, tmp_path):
    """config.json and vocab.txt agree with each other, but the SavedModel is from another vocabulary."""
    folder, _ = exported
    import json
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    other = ClassifierVocabulary(ClassifierVocabulary.load(str(copy / "vocab.txt")).words + ["新词"])
    other.save(str(copy / "vocab.txt"))
    cfg = json.loads((copy / "config.json").read_text(encoding="utf-8"))
    cfg.update(clf_vocab_words=len(other), clf_vocab_sha256=other.sha256())
    (copy / "config.json").write_text(json.dumps(cfg), encoding="utf-8")
    with pytest.raises(InputError, match="saved_model/ was trained with another vocabulary"):
        predictor.load_classifier(str(copy))


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no such classifier folder"):
        predictor.load_classifier(str(tmp_path / "nope"))
    with pytest.raises(InputError, match="no config.json"):
        predictor.load_classifier(str(tmp_path))


def test_annotate_labels_posts_and_responses_with_the_neural_model(exported):
    from ecm_tf.classifier import annotate
    from ecm_tf.data.pair import Pair

    folder, _ = exported
    pairs = [Pair("明天去上班", "我很难过"), Pair("", "没有帖子的句子"), Pair("今天很高兴", "这东西真恶心")]
    out = annotate.annotate(pairs, predictor.load_classifier(str(folder)))
    assert [(p.post_emotion, p.response_emotion) for p in out] == [(E.OTHER, E.SAD), (E.HAPPY, E.DISGUST)]
    assert out[0].post == "明天 去 上班"


def _ensemble(tmp_path, member_folder, names, bias):
    """An ensemble folder (replication/judge_select.py's layout) whose members are copies of one network."""
    import json
    import shutil

    folder = tmp_path / "ensemble"
    for name in names:
        shutil.copytree(member_folder, folder / "members" / name)
    (folder / "config.json").write_text(json.dumps({"classifier": "ensemble", "members": names, "class_bias": bias}),
                                        encoding="utf-8")
    return folder


def test_ensemble_folder_averages_members_and_applies_the_class_bias(exported, tmp_path):
    import numpy as np

    folder, keras_labels = exported
    texts = [s for s, _ in SENTENCES]
    member = predictor.load_classifier(str(folder))
    plain = predictor.load_classifier(str(_ensemble(tmp_path / "a", folder, ["x", "y"], [0.0] * 6)), "--classifier_dir")
    assert isinstance(plain, predictor.EnsembleClassifier)
    assert plain.predict(texts) == keras_labels
    np.testing.assert_allclose(plain.probabilities(texts), member.probabilities(texts), atol=1e-6)
    np.testing.assert_allclose(member.probabilities(texts).sum(-1), 1.0, atol=1e-5)
    sad = predictor.load_classifier(str(_ensemble(tmp_path / "b", folder, ["x"], [0, 0, 40.0, 0, 0, 0])))
    assert sad.predict(texts) == [E.SAD] * len(texts)
    assert sad.predict([]) == []


def test_ensemble_folder_errors_name_the_folder(exported, tmp_path):
    folder, _ = exported
    bad = _ensemble(tmp_path / "a", folder, ["x"], [0.0] * 5)
    with pytest.raises(InputError, match=r"--classifier_dir=.*ensemble: config.json class_bias must be a list of 6"):
        predictor.load_classifier(str(bad), "--classifier_dir")
    missing = _ensemble(tmp_path / "b", folder, ["x"], [0.0] * 6)
    (missing / "config.json").write_text('{"classifier": "ensemble", "members": ["x", "gone"]}', encoding="utf-8")
    with pytest.raises(InputError, match=r"gone: no such classifier folder"):
        predictor.load_classifier(str(missing))
