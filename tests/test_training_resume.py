"""Reliability of `--mode=train`: a resumed run equals an uninterrupted one bit for bit (also after
kill -9), damaged checkpoints are named and skipped, the data fingerprint refuses another vocabulary,
a refused start leaves no folder, and the ETA ignores the compiling first step."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, run_cli
from ecm_tf.errors import InputError
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm import trainer as train_lib
from ecm_tf.training.eta import StepClock
from test_training_run import FIXTURE, tiny


def _weights(trainer):
    return {v.path: v.numpy() for v in trainer.model.weights}


def _losses(out):
    return [line.split(" (nll")[0] for line in out.splitlines() if line.startswith("step ") and " loss " in line]


def test_half_then_resume_equals_straight_run(tmp_path, capsys):
    kw = dict(log_every=4, steps_per_checkpoint=3, lr_decay_window=2, batching="single_emotion")
    straight = train_lib.train(tiny(tmp_path / "a", max_steps=8, **kw))
    straight_log = _losses(capsys.readouterr().out)
    train_lib.train(tiny(tmp_path / "b", max_steps=3, **kw))  # stops inside a log window and a shuffle pass
    first_log = _losses(capsys.readouterr().out)
    resumed = train_lib.train(tiny(tmp_path / "b", max_steps=8, **kw))
    out = capsys.readouterr().out
    assert "resumed from" in out and "no input-pipeline state" not in out
    assert _losses(out) == straight_log  # steps 4 and 8: the window 1-4 spans the restart
    assert first_log[-1].startswith("step 3/3")
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert float(straight.lr.numpy()) == float(resumed.lr.numpy())


@pytest.mark.slow
def test_kill_9_then_rerun_equals_uninterrupted_run(tmp_path):
    args = ["--mode=train", "--flagfile=flags/ecm.flags", "--flagfile=flags/smoke.flags", f"--data_dir={FIXTURE}",
            "--bucket_boundaries=", "--batch_size=8", "--log_every=10", "--steps_per_checkpoint=10",
            "--steps_per_eval=0", "--max_steps=40"]
    straight = run_cli(*args, f"--model_dir={tmp_path / 'a'}")
    assert straight.returncode == 0, straight.stderr[-2000:]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "ecm_tf.main", *args, f"--model_dir={tmp_path / 'b'}"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while tf.train.latest_checkpoint(str(tmp_path / "b")) is None and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = tf.train.latest_checkpoint(str(tmp_path / "b"))
    assert killed_at is not None
    rerun = run_cli(*args, f"--model_dir={tmp_path / 'b'}")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "resumed from" in rerun.stdout
    step = int(killed_at.rsplit("-", 1)[1])
    assert [l for l in _losses(rerun.stdout)] == [l for l in _losses(straight.stdout) if int(l.split()[1].split("/")[0]) > step]
    ra = tf.train.load_checkpoint(str(tmp_path / "a" / "ckpt-40"))
    rb = tf.train.load_checkpoint(str(tmp_path / "b" / "ckpt-40"))
    names = [n for n, d in ra.get_variable_to_dtype_map().items() if n.startswith("model/") and d != tf.variant]
    assert names
    for n in names:
        np.testing.assert_array_equal(ra.get_tensor(n), rb.get_tensor(n), err_msg=n)


def test_damaged_newest_checkpoint(tmp_path, capsys):
    train_lib.train(tiny(tmp_path, max_steps=4))  # ckpt-2, ckpt-4
    data = tmp_path / "ckpt-4.data-00000-of-00001"
    os.truncate(data, 100)
    with pytest.raises(InputError, match=rf"{data} is damaged"):
        checkpoint_io.load(tiny(tmp_path), str(tmp_path))
    trainer = train_lib.train(tiny(tmp_path, max_steps=4))
    captured = capsys.readouterr()
    assert f"warning: --model_dir={tmp_path}: {data} is damaged" in captured.err
    assert "resumed from" in captured.out and "ckpt-2 at step 2" in captured.out
    assert int(trainer.step.numpy()) == 4
    checkpoint_io.load(tiny(tmp_path), str(tmp_path))  # ckpt-4 rewritten whole
    raw = bytearray((tmp_path / "ckpt-4.data-00000-of-00001").read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one flipped bit pattern: the CRC catches it
    (tmp_path / "ckpt-4.data-00000-of-00001").write_bytes(bytes(raw))
    with pytest.raises(InputError, match="is damaged .*Checksum"):
        checkpoint_io.load(tiny(tmp_path), str(tmp_path))


def _reprep_with_swapped_words(src, dst):
    shutil.copytree(src, dst)
    lines = (dst / "vocab.post.txt").read_text(encoding="utf-8").splitlines()
    lines[10], lines[11] = lines[11], lines[10]
    (dst / "vocab.post.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def test_other_vocabulary_of_the_same_size_is_refused(tmp_path):
    model_dir = tmp_path / "model"
    train_lib.train(tiny(model_dir, max_steps=2))
    saved = json.loads((model_dir / "config.json").read_text())
    assert set(saved["data_fingerprint"]) == {"vocab.post.txt", "vocab.response.txt", "ememory.npy"}
    assert (model_dir / "vocab.post.txt").read_bytes() == (FIXTURE / "vocab.post.txt").read_bytes()
    other = tmp_path / "other"
    lines = _reprep_with_swapped_words(FIXTURE, other)
    expected = (rf"--data_dir={other}: vocab.post.txt is not the one {model_dir} was trained with .*"
                rf"first difference at line 11: {lines[10]!r} here, {lines[11]!r} in training")
    with pytest.raises(InputError, match=expected):  # resume
        train_lib.train(tiny(model_dir, max_steps=4, data_dir=str(other)))
    assert json.loads((model_dir / "config.json").read_text())["data_dir"] == str(FIXTURE)  # not rewritten
    # decode / eval / export / chat go through checkpoint_io.load with the saved data_dir: re-prepped in place
    moved = tmp_path / "moved"
    shutil.copytree(model_dir, moved)
    cfg = json.loads((moved / "config.json").read_text())
    cfg["data_dir"] = str(other)
    (moved / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(InputError, match="first difference at line 11"):
        checkpoint_io.load(tiny(moved), str(moved))
    # a warm start from a model of another vocabulary
    with pytest.raises(InputError, match=rf"--data_dir={other}: vocab.post.txt is not the one {model_dir}"):
        train_lib.train(tiny(tmp_path / "warm", max_steps=2, data_dir=str(other), init_from=str(model_dir)))
    # the same vocabulary in another folder (prep --vocab_dir) is fine
    same = tmp_path / "same"
    shutil.copytree(FIXTURE, same)
    assert int(train_lib.train(tiny(model_dir, max_steps=4, data_dir=str(same))).step.numpy()) == 4


def test_refused_start_leaves_no_model_dir(tmp_path):
    with pytest.raises(InputError):
        train_lib.train(tiny(tmp_path / "new", data_dir=str(tmp_path / "no_such_data"), max_steps=2))
    assert not (tmp_path / "new").exists()


def test_eta_ignores_the_tracing_steps():
    """A run of 1000 steps of 0.1 s whose first step traces for 30 s and whose steps 50 and 80 trace a
    new bucket shape for 5 s, with a 2 s evaluation at step 60: after 10 % of it the ETA is within
    25 % of the time really left (a mean-based ETA says 2:22 for 1:30)."""
    clock = StepClock(clock=lambda: 0.0)
    clock.step_done(30.0)
    assert clock.eta(999) == "8:19:30"  # one step seen: its time is all there is yet
    for step in range(2, 101):
        clock.step_done(5.0 if step in (50, 80) else 0.1)
        if step == 60:
            clock.overhead_done(2.0)
    actual_left = 900 * 0.1 + 2.0 * 900 / 1000  # later evaluations at the same rate
    h, m, sec = map(int, clock.eta(900).split(":"))
    assert abs((h * 3600 + m * 60 + sec) - actual_left) <= 0.25 * actual_left
    assert StepClock().eta(10) == "?"
