"""Extra classifier data (silver TSV, CPED utterances): train split only, deduplicated against
dev/test; agreement with CPED's human labels; the flag defaults are the flag files' settings."""

import json

import pytest

from conftest import run_cli, shared_path
from ecm_tf import flags as ecm_flags
from ecm_tf import emotions as E
from ecm_tf.classifier import extra_data
from ecm_tf.errors import InputError
from test_classifier_cli import _xml

CPED_HEADER = "Dialogue_ID,Speaker,Emotion,Utterance"


def _silver(tmp_path, rows):
    path = tmp_path / "silver.tsv"
    path.write_text("label\ttext\n" + "".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")
    return str(path)


def _cped(tmp_path, rows):
    path = tmp_path / "cped.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ("\r\n".join([CPED_HEADER] + rows) + "\r\n").encode("utf-8"))
    return str(path)


def test_dedup_against_held_out_is_segmentation_independent(tmp_path):
    silver = _silver(tmp_path, [(5, "今天 很 高兴 ！"), (2, "我 很 难过"), ("Angry", "气死 我 了")])
    kept, report = extra_data.extra_train(silver, ["今天很高兴！", "http://t.cn/x 与此无关"])
    assert kept == [("我很难过", E.SAD), ("气死我了", E.ANGRY)]  # re-joined for jieba
    assert report[0]["read"] == 3 and report[0]["dropped_as_dev_or_test"] == 1 and report[0]["labels"]["Sad"] == 1


def test_cped_utterances_as_extra_data(tmp_path):
    path = _cped(tmp_path, ["1,a,anger,你走开", "1,b,relaxed,没事"])
    assert extra_data.extra_train(path, [])[0] == [("你走开", E.ANGRY), ("没事", E.OTHER)]


@pytest.mark.parametrize("content,message", [
    ("text\tlabel\n好\t1\n", r"silver.tsv:1: expected the header label<TAB>text"),
    ("label\ttext\n9\t好\n", r"silver.tsv:2: unknown emotion '9'"),
    ("label\ttext\n1\t好\t多\n", r"silver.tsv:2: expected label<TAB>text, got 3 column"),
])
def test_malformed_silver_names_file_and_line(tmp_path, content, message):
    (tmp_path / "silver.tsv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        extra_data.extra_train(str(tmp_path / "silver.tsv"), [])


def test_unknown_extension_is_refused(tmp_path):
    (tmp_path / "x.json").write_text("[]", encoding="utf-8")
    with pytest.raises(InputError, match=r"--clf_extra_train=.*x.json: expected a .tsv"):
        extra_data.extra_train(str(tmp_path / "x.json"), [])


def test_kappa():
    assert extra_data.cohen_kappa([0, 1, 2, 0], [0, 1, 2, 0]) == 1.0
    assert extra_data.cohen_kappa([0, 0, 1, 1], [0, 1, 0, 1]) == 0.0


def test_train_classifier_with_extra_data_and_agreement(tmp_path):
    silver = _silver(tmp_path, [(5, "今天 很 高兴"), (1, "我 喜欢 这 首 歌")] * 3)
    cped = _cped(tmp_path, ["1,a,happy,今天很高兴", "1,b,sadness,我很难过", "1,a,neutral,明天去上班"])
    model_dir = tmp_path / "clf"
    proc = run_cli("--mode=train_classifier", "--classifier=lexicon", f"--input={_xml(tmp_path / 'a.xml')}",
                   f"--clf_extra_train={silver}", f"--clf_agreement_input={cped}", f"--model_dir={model_dir}")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    # The 24 NLPCC sentences are split as without extra data (dev/test identical); the 6 silver
    # sentences all repeat NLPCC sentences, so those equal to a dev/test sentence are dropped.
    assert metrics["split"]["dev"] == 2 and metrics["split"]["test"] == 2
    extra = metrics["extra_train"][0]
    assert extra["read"] == 6 and metrics["split"]["train"] == 20 + extra["kept"]
    assert metrics["agreement"]["n"] == 3 and metrics["agreement"]["accuracy"] == 1.0
    assert "agreement with the human labels" in proc.stderr


def test_defaults_are_the_flag_files_settings():
    """`--mode=train_classifier --classifier=bilstm` without a flag file trains the best judge."""
    defaults = ecm_flags.defaults()
    for name in ("bilstm", "lstm", "rnn"):
        with open(f"flags/classifier_{name}.flags", encoding="utf-8") as f:
            for line in f:
                flag, _, value = line.strip().lstrip("-").partition("=")
                if flag in ("mode", "classifier"):
                    continue
                assert str(getattr(defaults, flag)) == value or getattr(defaults, flag) == type(getattr(defaults, flag))(value), flag


def test_real_silver_overlap_with_nlpcc():
    silver = str(shared_path("weibo_emotion_silver", "sentences.tsv"))
    nlpcc = [str(shared_path("nlpcc_emotion", f)) for f in ("nlpcc2013_train.xml", "nlpcc2014_sample.xml")]
    from ecm_tf.classifier import data as data_lib

    texts = [t for t, _ in data_lib.read_labelled(",".join(nlpcc))]
    kept, report = extra_data.extra_train(silver, texts)
    assert report[0]["read"] == 39864 and 6000 < report[0]["dropped_as_dev_or_test"] < 7000  # README: ~6,700
