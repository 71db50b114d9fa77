"""The shared training loop (ecm_tf/training/loop.py) with a toy task: a linear model fitted by SGD.

Checks the loop's own contract, whatever the family: exact resume (weights, the learning rate and
the logged means) against an uninterrupted run, the note when a task's input is not checkpointed,
the NaN stop, the plateau decay's hook, the global masked mean, and that every family trains
through it."""

import numpy as np
import pytest
import tensorflow as tf

from ecm_tf import flags as ecm_flags
from ecm_tf.errors import InputError
from ecm_tf.training import loop

X = np.random.default_rng(0).normal(size=[12, 3]).astype(np.float32)
Y = X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.25


class LinearTask(loop.Task):
    scalars = ("loss", "mse")

    def __init__(self, cfg, checkpoint_input=True, poison_at=None, plateau=False):
        self.cfg = cfg
        self.checkpoint_input = checkpoint_input
        self.poison_at = poison_at
        self.plateau_metric = "mse" if plateau else None
        self.lines = []
        self.log = self.lines.append
        self.finished = None
        self.history = []

    def build(self, strategy, learning_rate):
        self.model = tf.Module()
        self.model.w = tf.Variable(tf.zeros([3, 1]), name="w")
        self.model.b = tf.Variable(tf.zeros([1]), name="b")
        self.lr = learning_rate
        return dict(model=self.model)

    def compute(self, batch, step, replicas):
        x, y = batch
        with tf.GradientTape() as tape:
            mse = tf.reduce_mean((x @ self.model.w + self.model.b - y) ** 2)
            if self.poison_at is not None:
                mse += tf.where(step + 1 >= self.poison_at, np.nan, 0.0)  # no NaN in the gradients before
            loss = mse / replicas
        return tape.gradient(loss, [self.model.w, self.model.b]), {"loss": mse, "mse": mse}

    def apply(self, grads, metrics):
        for g, v in zip(grads, [self.model.w, self.model.b]):
            v.assign_sub(self.lr * g)
        return metrics

    def dataset(self):
        return tf.data.Dataset.from_tensor_slices((X, Y)).shuffle(12, seed=3).repeat().batch(4)

    def log_line(self, step, means, last, speed, eta):
        self.history.append(last["mse"])
        return f"step {step} loss {means['loss']:.6f} lr {float(self.lr.numpy()):.4g}"

    def finish(self, trainer, step, seconds):
        self.finished = step


def cfg_for(model_dir, **changes):
    settings = dict(model_dir=str(model_dir), learning_rate=0.1, max_steps=6, log_every=4, steps_per_checkpoint=3,
                    steps_per_eval=0, jit_compile=False)
    return ecm_flags.defaults().replace(**{**settings, **changes})


def weights(trainer):
    return trainer.model.w.numpy().copy(), trainer.model.b.numpy().copy()


def test_resume_is_exact_against_an_uninterrupted_run(tmp_path):
    straight = LinearTask(cfg_for(tmp_path / "a"))
    a = loop.run(straight, straight.cfg)
    first = LinearTask(cfg_for(tmp_path / "b", max_steps=3))  # stops inside a log window and a shuffle pass
    loop.run(first, first.cfg)
    second = LinearTask(cfg_for(tmp_path / "b"))
    b = loop.run(second, second.cfg)
    for x, y in zip(weights(a), weights(b)):
        np.testing.assert_array_equal(x, y)
    assert second.lines[0].startswith(f"resumed from {tmp_path / 'b' / 'ckpt-3'} at step 3")
    progress = [line for line in straight.lines if line.startswith("step ")]
    assert progress == [line for line in first.lines + second.lines if line.startswith("step 4") or
                        line.startswith("step 6")]
    assert straight.finished == 6 and second.finished == 6 and int(b.step.numpy()) == 6
    assert a.manager.latest_checkpoint.endswith("ckpt-6")


def test_a_task_without_input_state_says_its_data_restarts(tmp_path):
    task = LinearTask(cfg_for(tmp_path, max_steps=3), checkpoint_input=False)
    loop.run(task, task.cfg)
    again = LinearTask(cfg_for(tmp_path), checkpoint_input=False)
    loop.run(again, again.cfg)
    assert again.lines[0].startswith(f"note: {tmp_path / 'ckpt-3'} has no input-pipeline state "
                                     f"(--model={again.cfg.model} keeps its whole training set")


def test_a_nan_loss_stops_without_saving(tmp_path):
    task = LinearTask(cfg_for(tmp_path), poison_at=5)
    with pytest.raises(InputError, match=rf"loss is nan at step 5 \(batch\); stopped without saving, the last "
                                         rf"good checkpoint \({tmp_path / 'ckpt-3'}\) is kept"):
        loop.run(task, task.cfg)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-3") and task.finished is None


def test_nothing_to_do_at_max_steps(tmp_path):
    task = LinearTask(cfg_for(tmp_path))
    loop.run(task, task.cfg)
    again = LinearTask(cfg_for(tmp_path))
    loop.run(again, again.cfg)
    assert again.lines[-1] == f"nothing to do: {tmp_path} is already at step 6 (--max_steps=6)"
    assert again.finished is None


def test_the_plateau_decay_follows_the_tasks_metric(tmp_path):
    # Windows of one step: a step's metric above the max of the previous three windows decays the
    # rate (training/plateau.py). A negative rate makes the loss rise, so that it decays.
    task = LinearTask(cfg_for(tmp_path, lr_decay_window=1, lr_decay=0.5, learning_rate=-0.05, log_every=1,
                              max_steps=8), plateau=True)
    trainer = loop.run(task, task.cfg)
    expected, previous, decays = -0.05, [], []
    for step, mse in enumerate(task.history, 1):
        if len(previous) >= 3 and mse > max(previous[-3:]):
            expected *= 0.5
            decays.append(step)
        previous.append(mse)
    assert decays and float(trainer.lr.numpy()) == pytest.approx(expected)
    assert [line for line in task.lines if "decayed" in line][0].startswith(f"step {decays[0]}: learning rate")
    constant = LinearTask(cfg_for(tmp_path / "constant", lr_decay_window=1, lr_decay=0.5, learning_rate=-0.05))
    assert float(loop.run(constant, constant.cfg).lr.numpy()) == pytest.approx(-0.05)  # no plateau_metric


def test_global_masked_mean_on_one_replica():
    values = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    weight = tf.constant([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert float(loop.global_masked_mean(values, weight)) == pytest.approx((1 + 2 + 4) / 3)
    assert float(loop.global_masked_mean(values, tf.zeros_like(weight))) == 0.0
    assert float(loop.global_sum(tf.constant(2.5))) == 2.5


def test_every_family_trains_through_the_loop():
    from ecm_tf.models.cerg.trainer import CergTask
    from ecm_tf.models.ecm.trainer import EcmTask

    assert issubclass(EcmTask, loop.Task) and issubclass(CergTask, loop.Task)
    assert EcmTask.plateau_metric == "nll" and EcmTask.checkpoint_input
    assert CergTask.plateau_metric is None and not CergTask.checkpoint_input


class _Unread:
    """A step output the loop must not read on the host (a GPU step would wait for it)."""

    def __float__(self):
        raise AssertionError("the loop read a step's metric on the host")

    __array__ = numpy = __float__


def test_the_host_reads_the_metrics_once_per_progress_line_and_the_plateau_once_per_window(tmp_path, monkeypatch):
    counts = {"window": 0, "plateau": 0}
    read, end_window, make_step = loop.LogWindow.read, loop.PlateauDecay.end_window, loop.Trainer._make_train_step

    def counted_read(self, present):
        counts["window"] += 1
        return read(self, present)

    def counted_end_window(self):
        counts["plateau"] += 1
        return end_window(self)

    def unread_step(self):
        step = make_step(self)
        return lambda batch: {k: _Unread() for k in step(batch)}

    monkeypatch.setattr(loop.LogWindow, "read", counted_read)
    monkeypatch.setattr(loop.PlateauDecay, "end_window", counted_end_window)
    monkeypatch.setattr(loop.Trainer, "_make_train_step", unread_step)
    task = LinearTask(cfg_for(tmp_path, max_steps=12, log_every=4, lr_decay_window=3, lr_decay=0.5,
                              learning_rate=-0.05, steps_per_checkpoint=100), plateau=True)
    loop.run(task, task.cfg)
    assert counts == {"window": 3, "plateau": 4}

    # The lines are those of a step-by-step computation: the same batches, SGD by hand, the window means
    # of the MSE, the plateau rule (windows of 3 steps) on the host.
    w, b, lr = np.zeros([3, 1], np.float32), np.zeros([1], np.float32), -0.05
    batches = iter(task.dataset())
    losses, previous, lines, decays = [], [], [], []
    for step in range(1, 13):
        x, y = (t.numpy() for t in next(batches))
        err = x @ w + b - y
        losses.append(float(np.mean(err ** 2)))
        w, b = w - lr * (2 * x.T @ err / len(x)), b - lr * 2 * err.mean(0)
        if step % 3 == 0:
            mean = float(np.mean(losses[-3:]))
            if len(previous) >= 3 and mean > max(previous[-3:]):
                lr *= 0.5
                decays.append(step)
            previous.append(mean)
        if step % 4 == 0:
            lines.append((step, float(np.mean(losses[-4:])), lr))
    logged = [line.split() for line in task.lines if line.startswith("step ") and " loss " in line]
    assert [int(f[1]) for f in logged] == [s for s, _, _ in lines]
    for fields, (_, loss, rate) in zip(logged, lines):
        assert float(fields[3]) == pytest.approx(loss, rel=1e-5) and float(fields[5]) == pytest.approx(rate)
    assert decays and [int(line.split(":")[0].split()[1]) for line in task.lines if "decayed" in line] == decays
