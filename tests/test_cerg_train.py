"""CERG overfits a few pairs; beam decoding (with and without retrieval) reproduces them; the model
folder reloads to identical outputs."""

import csv
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf.evaluation import cecg_sheet
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import data
from ecm_tf.decoding import decode
from ecm_tf.models.cerg import serving_module
from ecm_tf.models.cerg import trainer as cerg_trainer
from ecm_tf.models.cerg.predictor import CergPredictor
from ecm_tf.errors import InputError
from conftest import assert_loaders_agree, load_both_ways, load_both_ways_many, run_cli

PAIRS = [("今天天气真好", "是啊出去玩吧", 1), ("我好难过", "别难过了抱抱", 2), ("气死我了", "谁惹你生气了", 4),
         ("好开心啊", "哈哈恭喜你", 5), ("这个菜真难吃", "那就别吃了", 3), ("晚上吃什么", "吃火锅吧", 0)]


def small_cfg(model_dir, **changes):
    cfg = ecm_flags.defaults().replace(
        model="cerg", model_dir=str(model_dir), cerg_layers=2, cerg_hidden=64, cerg_heads=4, cerg_max_chars=8,
        cerg_dropout=0.0, batch_size=6, max_steps=150, learning_rate=3e-3, log_every=1000,
        steps_per_checkpoint=1000, steps_per_eval=1000, jit_compile=False, replace_ramp_steps=100,
        vocab_size=1000, beam_size=2, retrieval_k=2, retrieval_weight=1.0)
    return cfg.replace(**changes)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("cerg")
    cfg = small_cfg(model_dir, steps_per_eval=150)
    pairs = [(list(p), list(r), e) for p, r, e in PAIRS]
    vocab = char_vocab.build((chars for p, r, _ in pairs for chars in (p, r)), cfg.vocab_size)
    vocab.save(cfg.model_dir)
    dev = data.to_arrays(vocab, pairs[:2], cfg.cerg_max_chars)
    trainer, stats = cerg_trainer.train(cfg, pairs, dev_arrays=dev, vocab=vocab, quiet=True)
    return cfg, trainer, stats


def test_training_writes_the_model_folder(trained):
    cfg, _, stats = trained
    assert stats["steps"] == 150 and stats["pairs"] == 6
    assert stats["dev_loss"] < 0.2  # the dev pairs are training pairs here
    for name in ("config.json", "char_vocab.txt", "retrieval_index.json", "train_stats.json", "checkpoint"):
        assert os.path.exists(os.path.join(cfg.model_dir, name)), name


def test_teacher_forced_loss_is_near_zero(trained):
    _, trainer, _ = trained
    predictor = CergPredictor.load(trained[0].model_dir)
    arrays = data.to_arrays(predictor.vocab, [(list(p), list(r), e) for p, r, e in PAIRS], 8)
    batch = {k: tf.constant(v) for k, v in arrays.items()}
    assert float(cerg_trainer.response_loss(trainer.model.batch_logits(batch), batch["target"])) < 0.2


@pytest.mark.parametrize("use_retrieval", [True, False])
def test_beam_search_reproduces_the_training_responses(trained, use_retrieval):
    predictor = CergPredictor.load(trained[0].model_dir)
    out = predictor.respond([p for p, _, _ in PAIRS], [e for _, _, e in PAIRS], use_retrieval=use_retrieval)
    assert out == [r for _, r, _ in PAIRS]


def test_reloaded_folder_gives_identical_outputs(trained):
    cfg, trainer, _ = trained
    first, second = CergPredictor.load(cfg.model_dir), CergPredictor.load(cfg.model_dir)
    arrays = data.to_arrays(first.vocab, [(list(p), list(r), e) for p, r, e in PAIRS], 8)
    batch = {k: tf.constant(v) for k, v in arrays.items()}
    np.testing.assert_array_equal(first.model.batch_logits(batch).numpy(), trainer.model.batch_logits(batch).numpy())
    posts = [p for p, _, _ in PAIRS]
    assert first.respond_detailed(posts, ["Sad"] * 6) == second.respond_detailed(posts, ["Sad"] * 6)


def test_decode_mode_writes_json_lines(trained, tmp_path):
    cfg, _, _ = trained
    posts = tmp_path / "posts.txt"
    posts.write_text("我好难过\n好开心啊\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    decode.run(cfg.replace(input=str(posts), input_format="lines", emotion="Sad,Happy", output=str(out)))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["post"], r["emotion"]) for r in rows] == [("我好难过", "Sad"), ("我好难过", "Happy"),
                                                          ("好开心啊", "Sad"), ("好开心啊", "Happy")]
    assert rows[0]["response"] == "别难过了抱抱" and len(rows[0]["retrieved"]) == 2
    assert all(len(r["candidates"]) == 2 for r in rows)


def test_bad_inputs_are_input_errors(trained, tmp_path):
    predictor = CergPredictor.load(trained[0].model_dir)
    with pytest.raises(InputError, match="unknown emotion"):
        predictor.respond(["你好"], ["Fear"])
    with pytest.raises(InputError, match="empty post"):
        predictor.respond(["  "], ["Sad"])
    with pytest.raises(InputError, match="no config.json"):
        CergPredictor.load(str(tmp_path))


@pytest.mark.slow
def test_saved_model_no_posts_and_mismatched_lengths(trained, tmp_path):
    cfg, _, _ = trained
    path = serving_module.export(cfg.model_dir, str(tmp_path / "export"))
    k = CergPredictor.load(cfg.model_dir).beam_size
    empty, mismatched = load_both_ways_many(path, "serving_default", [
        {"posts": [], "emotions": []}, {"posts": ["我好难过"], "emotions": ["Sad", "Happy"]}])
    assert empty["session"] == empty["tf2"] == {"responses": [], "scores": []}
    assert empty["session_shapes"] == {"responses": [0, k], "scores": [0, k]}
    assert empty["tf2_dtypes"] == {"responses": "string", "scores": "float32"}
    assert "inputs posts and emotions must have the same number of rows" in mismatched["session_error"]
    assert "inputs posts and emotions must have the same number of rows" in mismatched["tf2_error"]
    empty, mismatched = load_both_ways_many(path, "decode_ids", [
        {"emotion": {"zeros": [0]}, "post": {"zeros": [0, cfg.cerg_max_chars]}},
        {"emotion": [1, 2], "post": {"zeros": [1, cfg.cerg_max_chars]}}])
    assert empty["session_shapes"] == {"ids": [0, k, cfg.cerg_max_chars + 1], "scores": [0, k], "lengths": [0, k]}
    assert empty["tf2_dtypes"] == {"ids": "int32", "scores": "float32", "lengths": "int32"}
    assert "inputs emotion and post must have the same number of rows" in mismatched["session_error"]


@pytest.mark.slow
def test_saved_model_export_matches_the_predictor(trained, tmp_path):
    """Text in, text out under TF Serving's session loader, as tf.saved_model.load and as the predictor
    without retrieval (raw posts: repeats capped, digits, an unknown character)."""
    cfg, _, _ = trained
    predictor = CergPredictor.load(cfg.model_dir)
    path = serving_module.export(cfg.model_dir, str(tmp_path / "export"))
    assert path == str(tmp_path / "export" / "1")
    assert (tmp_path / "export" / "1" / "char_vocab.txt").exists()
    posts = ["我好难过", "气死我了了了了了", "今天天气真好12", "晚上吃什么鑫"]
    emotions = ["Sad", "angry", "1", "Other"]
    both = load_both_ways(path, "serving_default", {"posts": posts, "emotions": emotions})
    assert_loaders_agree(both)
    detailed = predictor.respond_detailed(posts, emotions, use_retrieval=False)
    for row, served, scores in zip(detailed, both["session"]["responses"], both["session"]["scores"]):
        assert served == [c["response"] for c in row["candidates"]]
        np.testing.assert_allclose(scores, [c["log_prob"] for c in row["candidates"]], atol=1e-5)
    assert both["session"]["responses"][0][0] == "别难过了抱抱"
    post = data.encode_posts(predictor.vocab, [list("我好难过")], 8).tolist()
    ids = load_both_ways(path, "decode_ids", {"emotion": [2], "post": post})
    assert_loaders_agree(ids)
    expected = predictor.candidates(["我好难过"], [2])[0]
    assert [predictor.vocab.chars(i) for i in ids["session"]["ids"][0]] == [c for c, _, _ in expected]
    refused = load_both_ways(path, "serving_default", {"posts": ["你好"], "emotions": ["Joy"]})
    assert "unknown emotion" in refused["session_error"] and "unknown emotion" in refused["tf2_error"]


@pytest.mark.parametrize("retrieval_flag", [[], ["--no_retrieval"]])
def test_decode_command_line_with_and_without_retrieval(trained, tmp_path, retrieval_flag):
    cfg, _, _ = trained
    posts = tmp_path / "posts.txt"
    posts.write_text("气死我了\n好开心啊\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = run_cli("--mode=decode", f"--model_dir={cfg.model_dir}", f"--input={posts}", "--input_format=lines",
                   "--emotion=Angry,Happy", f"--output={out}", *retrieval_flag)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ("retrieval off" if retrieval_flag else "retrieval on") in proc.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["post"], r["emotion"]) for r in rows] == [("气死我了", "Angry"), ("气死我了", "Happy"),
                                                          ("好开心啊", "Angry"), ("好开心啊", "Happy")]
    assert rows[0]["response"] == "谁惹你生气了" and rows[3]["response"] == "哈哈恭喜你"
    assert all(len(r["retrieved"]) == (0 if retrieval_flag else 2) for r in rows)


def test_cecg_sheet_then_cecg_score(trained, tmp_path):
    cfg, _, _ = trained
    posts = tmp_path / "posts.txt"
    posts.write_text("我好难过\n好开心啊\n", encoding="utf-8")
    sheet = tmp_path / "sheet.csv"
    cecg_sheet.run(cfg.replace(input=str(posts), input_format="lines", output=str(sheet), emotion="all",
                               classifier_dir=str(tmp_path / "none")))  # lexicon classifier fallback
    with open(sheet, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["post"], r["emotion"]) for r in rows] == [
        (p, e) for p in ("我好难过", "好开心啊") for e in ("Like", "Sad", "Disgust", "Angry", "Happy")]
    assert rows[1]["response"] == "别难过了抱抱"
    summary = json.loads((tmp_path / "sheet.csv.json").read_text(encoding="utf-8"))
    assert summary["posts"] == 2 and summary["per_emotion"]["Overall"]["n"] == 10
    assert set(summary["per_emotion"]) == {"Like", "Sad", "Disgust", "Angry", "Happy", "Overall"}
    # An annotator labels Sad rows 2 and 1, Happy rows 1 and 0, the others 0.
    labels = {("我好难过", "Sad"): "2", ("好开心啊", "Sad"): "1", ("我好难过", "Happy"): "1"}
    for r in rows:
        r["label"] = labels.get((r["post"], r["emotion"]), "0")
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    proc = run_cli("--mode=cecg_score", f"--sheets={sheet}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # Sad (1 + 2*1) / 2 = 1.5, Happy (1 + 0) / 2 = 0.5; sum 2.0.
    assert f"| {sheet} | 0.000 | 1.500 | 0.000 | 0.000 | 0.500 | 2.000 |" in proc.stdout
    rows[0]["label"] = ""
    with open(sheet, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    proc = run_cli("--mode=cecg_score", f"--sheets={sheet}")
    assert proc.returncode == 2 and f"{sheet}:2: label must be 0, 1 or 2" in proc.stderr


def test_cecg_sheet_takes_any_family_and_refuses_an_unknown_one(tmp_path):
    from test_decoding_decode import make_model_dir

    make_model_dir(tmp_path / "ecm")  # a tiny ECM with random weights: any family's folder is sheeted
    posts = tmp_path / "posts.txt"
    posts.write_text("今天好开心\n我好难过\n", encoding="utf-8")
    out = tmp_path / "sheet.csv"
    cecg_sheet.run(ecm_flags.defaults().replace(model_dir=str(tmp_path / "ecm"), input=str(posts), input_format="lines",
                                                output=str(out), classifier_dir=str(tmp_path / "none")))
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + 2 * 5 and rows[0].startswith("post,emotion,response")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "config.json").write_text(json.dumps({"model": "gpt"}), encoding="utf-8")
    with pytest.raises(InputError, match="model=gpt: unknown model family"):
        cecg_sheet.run(ecm_flags.defaults().replace(model_dir=str(tmp_path / "odd")))
