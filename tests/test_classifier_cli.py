"""train_classifier / classify / annotate / interaction through the command line (lexicon classifier)."""

import json

from conftest import run_cli

from ecm_tf import emotions as E

SENTENCES = [
    ("happiness", "今天很高兴"), ("like", "我喜欢这首歌"), ("sadness", "我很难过"),
    ("disgust", "这东西真恶心"), ("anger", "这种行为让人愤怒"), (None, "明天去上班"),
] * 4


def _xml(path):
    body = "".join(  # one weibo per sentence: the split draws whole weibos
        f'<weibo id="{i}"><sentence id="1" opinionated="{"N" if e is None else "Y"}"'
        + ("" if e is None else f' emotion-1-type="{e}"') + f">{s}</sentence></weibo>\n"
        for i, (e, s) in enumerate(SENTENCES, 1))
    path.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n<TestingData>\n{body}</TestingData>\n',
                    encoding="utf-8")
    return path


def test_train_classify_annotate_interaction_round_trip(tmp_path):
    model_dir = tmp_path / "clf"
    proc = run_cli("--mode=train_classifier", "--classifier=lexicon", f"--input={_xml(tmp_path / 'a.xml')}",
                   f"--model_dir={model_dir}")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["split"] == {"train": 20, "dev": 2, "test": 2, "seed": 1234, "by": "weibo",
                                "weibos": {"train": 20, "dev": 2, "test": 2}}
    assert metrics["test"]["accuracy"] == 1.0  # every sentence holds exactly one lexicon word of its class
    assert "lexicon: test accuracy 1.0000" in proc.stdout

    sentences = tmp_path / "in.txt"
    sentences.write_text("今天很高兴\n这 东西 真 恶心\n明天去上班\n", encoding="utf-8")
    out = tmp_path / "labels.txt"
    proc = run_cli("--mode=classify", f"--model_dir={model_dir}", f"--input={sentences}", f"--output={out}")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == "Happy\nDisgust\nOther\n"

    corpus = tmp_path / "chat.txt"
    corpus.write_text("今 天 很 高 兴\t我 很 难 过\n明 天 去 上 班\t我 喜 欢 上 班\n", encoding="utf-8")
    annotated = tmp_path / "ann.json"
    proc = run_cli("--mode=annotate", f"--model_dir={model_dir}", f"--input={corpus}", "--input_format=lccc",
                   f"--output={annotated}")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(annotated.read_text(encoding="utf-8"))
    assert [[r[0][1], r[1][1]] for r in records] == [[E.HAPPY, E.SAD], [E.OTHER, E.LIKE]]
    assert records[1][1][0].replace(" ", "") == "我喜欢上班"
    assert "annotated 2 pairs" in proc.stdout

    proc = run_cli("--mode=interaction", f"--input={annotated}", f"--output={tmp_path / 'fig'}")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "fig.csv").read_text(encoding="utf-8").splitlines()[6].startswith("Happy,1,")


def test_missing_model_dir_is_one_line(tmp_path):
    sentences = tmp_path / "x.txt"
    sentences.write_text("今天 很 高兴\n", encoding="utf-8")
    proc = run_cli("--mode=classify", f"--model_dir={tmp_path / 'nope'}", f"--input={sentences}",
                   f"--output={tmp_path / 'y'}")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: --model_dir={tmp_path / 'nope'}: no such classifier folder "
                                                "(train one with --mode=train_classifier)"]
