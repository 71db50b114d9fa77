"""`--mode=train` end to end on the committed fixture: resume, config guard, Seq2Seq -> ECM init_from."""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm import trainer as train_lib
from ecm_tf.models.ecm import warm_start
from ecm_tf.training.plateau import PlateauDecay

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "tfrecords" / "fixture"


def tiny(model_dir, **kw):
    settings = dict(
        data_dir=str(FIXTURE), model_dir=str(model_dir), embed_dim=8, hidden=8, emotion_dim=4, batch_size=8,
        jit_compile=False, log_every=2, steps_per_checkpoint=2, steps_per_eval=0, lr_decay_window=2,
        shuffle_buffer=64, bucket_boundaries=[])
    settings.update(kw)
    return ecm_flags.defaults().replace(**settings)


@pytest.fixture(scope="module")
def seq2seq_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seq2seq")
    train_lib.train(tiny(folder, use_emb=False, use_imemory=False, use_ememory=False, max_steps=2))
    return folder


def test_resume_continues_from_saved_step(tmp_path, capsys):
    first = train_lib.train(tiny(tmp_path, max_steps=2))
    assert int(first.step.numpy()) == 2
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["response_vocab_size"] == first.model.response_vocab_size
    weights = [w.numpy() for w in first.model.weights]
    second = train_lib.train(tiny(tmp_path, max_steps=4))
    assert "resumed from" in capsys.readouterr().out
    assert int(second.step.numpy()) == 4
    assert int(second.plateau.num_previous.numpy()) == 2  # window history survived the restart
    assert any(not np.array_equal(w, v.numpy()) for w, v in zip(weights, second.model.weights))
    with pytest.raises(InputError, match="hidden=8; this run has hidden=12"):
        train_lib.train(tiny(tmp_path, max_steps=6, hidden=12))


def test_init_from_restores_exactly_the_shared_variables(seq2seq_dir, tmp_path):
    cfg = tiny(tmp_path, max_steps=0, init_from=str(seq2seq_dir))
    trainer = train_lib.train(cfg)
    source, _, _ = checkpoint_io.load(cfg, str(seq2seq_dir))
    by_path = {v.path: v.numpy() for v in source.weights}
    shared = [v for v in trainer.model.weights if not warm_start.is_emotion_variable(v.path)]
    fresh = [v for v in trainer.model.weights if warm_start.is_emotion_variable(v.path)]
    assert set(v.path for v in shared) == set(by_path)
    for v in shared:
        np.testing.assert_array_equal(v.numpy(), by_path[v.path])
    assert {"emotion_embedding", "internal_memory", "emotion_selector"} <= {
        part for v in fresh for part in v.path.split("/")}


def test_init_from_refuses_a_missing_checkpoint(tmp_path):
    with pytest.raises(InputError, match="--init_from"):
        train_lib.train(tiny(tmp_path / "m", max_steps=1, init_from=str(tmp_path)))


def test_plateau_decay_rule():
    lr = tf.Variable(1.0)
    decay = PlateauDecay(lr, 0.5, window=2)
    for loss in [4, 4, 3, 3, 2, 2, 1, 1]:  # window means 4, 3, 2, 1: improving, no decay
        assert not decay.update(loss)
    assert not decay.update(3.0)
    assert not decay.update(3.0)  # mean 3 is not above max(3, 2, 1)
    assert float(lr.numpy()) == 1.0
    assert not decay.update(3.5)
    assert decay.update(3.5)  # mean 3.5 > max(2, 1, 3)
    assert float(lr.numpy()) == 0.5


def test_nan_loss_stops_with_step_and_batch_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    train_lib.train(tiny(tmp_path, max_steps=2))
    good = {v.path: v.numpy() for v in checkpoint_io.load(tiny(tmp_path), str(tmp_path))[0].weights}
    real_loss = train_lib.ecm_loss

    def nan_loss(outputs, batch, cfg):
        parts = dict(real_loss(outputs, batch, cfg))
        parts["loss"] = parts["loss"] + float("nan")
        return parts

    monkeypatch.setattr(train_lib, "ecm_loss", nan_loss)
    with pytest.raises(InputError, match=r"loss is nan at step 3 \(batch of 8 pairs, post lengths \d+-\d+.*emotions .*"
                                         r"the last good checkpoint \(.*ckpt-2\) is kept"):
        train_lib.train(tiny(tmp_path, max_steps=4))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-2")
    reloaded, _, _ = checkpoint_io.load(tiny(tmp_path), str(tmp_path))
    for v in reloaded.weights:
        np.testing.assert_array_equal(v.numpy(), good[v.path])


def test_pretrained_embeddings_set_the_known_words(tmp_path, capsys):
    from ecm_tf.data import vocab as vocab_lib

    post_vocab, response_vocab = vocab_lib.load_pair(str(FIXTURE))
    word = next(w for w in post_vocab.word_list[4:] if w in set(response_vocab.word_list))
    vectors = tmp_path / "vectors.txt"
    vectors.write_text(f"2 8\n{word} " + " ".join(["0.5"] * 8) + "\n不在词表里的词 " + " ".join(["9"] * 8) + "\n",
                       encoding="utf-8")
    trainer = train_lib.train(tiny(tmp_path / "m", max_steps=0, pretrained_embeddings=str(vectors)))
    assert "1/" in capsys.readouterr().out
    for layer, voc in ((trainer.model.post_embedding, post_vocab), (trainer.model.response_embedding, response_vocab)):
        matrix = layer.embeddings.numpy()
        np.testing.assert_array_equal(matrix[voc.word_list.index(word)], np.full(8, 0.5, np.float32))
        others = np.delete(matrix, voc.word_list.index(word), axis=0)
        assert np.abs(others).max() <= np.sqrt(3.0 / 8) + 1e-6  # U(-sqrt(3/d), sqrt(3/d)) for the rest
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{word} 0.1 0.2\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{bad}:1: expected a word and 8 numbers \(--embed_dim=8\), got 2"):
        train_lib.train(tiny(tmp_path / "m2", max_steps=0, pretrained_embeddings=str(bad)))


@pytest.mark.parametrize("strategy", ["mirrored", "multi_worker"])
def test_distribution_strategies_train_and_checkpoint(tmp_path, strategy):
    from conftest import run_cli

    proc = run_cli("--mode=train", "--flagfile=flags/ecm.flags", "--flagfile=flags/smoke.flags",
                   f"--data_dir={FIXTURE}", f"--model_dir={tmp_path}", "--max_steps=4", "--bucket_boundaries=",
                   "--batch_size=8", "--log_every=2", "--steps_per_checkpoint=4", f"--strategy={strategy}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [float(line.split(" loss ")[1].split()[0]) for line in proc.stdout.splitlines() if " loss " in line]
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-4")
    assert json.loads((tmp_path / "config.json").read_text())["strategy"] == strategy
