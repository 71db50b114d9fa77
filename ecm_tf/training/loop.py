"""The one training loop of every model family: `run(task, cfg)`.

A family describes its training as a `Task` (its model and optimizers, the per-replica gradient
computation, the update, its input, its progress line, its dev evaluation and what it writes at
the end); `Trainer` and `run` hold everything the families share:

- the tf.distribute strategy (`--strategy=default|mirrored|multi_worker`; the cluster of a
  multi-worker run comes from TF_CONFIG, docs/model.md), with the step compiled once
  (`--jit_compile`) and per-replica gradients summed across replicas;
- a CheckpointManager over the task's objects, the step counter, the learning rate, the optional
  plateau decay (training/plateau.py), the progress-line sums and, where the task allows it, the
  input iterator; resume from the newest intact checkpoint;
- NaN stop (nothing saved, the last good checkpoint named), progress lines with an ETA
  (training/eta.py), TensorBoard scalars under MODEL_DIR/train and MODEL_DIR/dev;
- checkpoints every --steps_per_checkpoint steps, dev evaluations every --steps_per_eval steps;
- only the chief writes the model folder (the other workers write under MODEL_DIR/workers/).
"""

import abc
import math
import os
import shutil
import time

import keras
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from ecm_tf import checkpoints
from ecm_tf import io_utils
from ecm_tf.errors import InputError
from ecm_tf.training.eta import StepClock
from ecm_tf.training.plateau import PlateauDecay


_STRATEGIES = {}


def make_strategy(name):
    """The tf.distribute strategy of --strategy=`name`, one per process: a family whose trainer runs
    TensorFlow ops before building its model (reading its data) calls this first, because
    MultiWorkerMirroredStrategy must configure the collective ops before any op runs."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name not in _STRATEGIES:
        if name == "mirrored":
            _STRATEGIES[name] = tf.distribute.MirroredStrategy()
        elif name == "multi_worker":
            # The cluster comes from TF_CONFIG (docs/model.md).
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
        else:
            raise ValueError(f"--strategy={name}: expected default, mirrored or multi_worker")
    return _STRATEGIES[name]


def write_dir(strategy, model_dir):
    """Where this process writes checkpoints and TensorBoard logs: model_dir for the chief (or a
    single process), model_dir/workers/worker_N for the other workers of a multi-worker run. Every
    worker takes part in saving (the variables are synchronised), but only the chief's copy is the
    model folder."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return model_dir
    chief = resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0
                                               and "chief" not in resolver.cluster_spec().as_dict())
    return model_dir if chief else os.path.join(model_dir, "workers", f"{resolver.task_type}_{resolver.task_id}")


class Task(abc.ABC):
    """What a model family gives the loop.

    Attributes:
      scalars: names of the metrics the step returns, averaged over each progress window.
      plateau_metric: the metric fed to the plateau decay of the learning rate (None: constant rate).
      checkpoint_input: whether the input iterator goes into the checkpoints (exact resume); a task
        whose input state would be too large to save says False, and a resumed run restarts its data.
      log: callable printing one progress line.
    """

    scalars = ("loss",)
    plateau_metric = None
    checkpoint_input = True
    log = staticmethod(lambda line: print(line, flush=True))

    @abc.abstractmethod
    def build(self, strategy, learning_rate):
        """Builds the model and optimizers (inside strategy.scope()); `learning_rate` is the loop's
        tf.Variable, which the update must read. Sets `self.model`; returns {name: object} for the
        checkpoint (the model's weights under "model")."""

    @abc.abstractmethod
    def compute(self, batch, step, replicas):
        """One replica's gradients: (grads, metrics). `step` is the step counter before this step.
        The gradients are summed across replicas, so the loss behind them must be the replica's share
        of the global batch's loss: a per-replica mean divided by `replicas`, or a token mean over
        the global batch (global_masked_mean). The metrics are averaged across replicas."""

    @abc.abstractmethod
    def apply(self, grads, metrics):
        """Applies the summed gradients (clipping included); returns the metrics to log."""

    @abc.abstractmethod
    def dataset(self):
        """The training input: a tf.data.Dataset of global batches, endless."""

    def write_config(self, model_dir):
        """Saves the model folder's settings (the chief only; refuses an incompatible folder)."""

    def start(self, trainer, resumed):
        """Called once before the first step: a fresh run's initialisation, a header line."""

    @abc.abstractmethod
    def log_line(self, step, means, last, speed, eta):
        """The progress line of a window: `means` of the scalars, the `last` step's metrics,
        `speed` in steps/s, `eta` text."""

    def dev(self):
        """({scalar name: value} for TensorBoard, text line), or None when there is no dev data."""
        return None

    def describe_batch(self, batch):
        """A short description of a batch for the NaN-stop message."""
        return "batch"

    def finish(self, trainer, step, seconds):
        """Called after the last step of a run that trained (the chief: indexes, statistics)."""


def _vector(metrics, names):
    """The step's metrics as a float64 vector in the order of `names` (a name the step lacks: 0)."""
    return tf.stack([tf.cast(metrics[k], tf.float64) if k in metrics else tf.constant(0.0, tf.float64)
                     for k in names])


def _by_name(variable, names, present):
    """{name: value} of a float64 vector variable (one read), for the names in `present`."""
    values = variable.numpy().tolist()
    return {k: values[i] for i, k in enumerate(names) if k in present}


class LogWindow(tf.Module):
    """The running sums of the metrics since the last progress line, accumulated on the device by the
    compiled step (`add`) and read by the host once per progress line (`read`). They are kept in the
    checkpoint, so that a resumed run prints the same means as an uninterrupted one (sums in float64,
    as in Python)."""

    def __init__(self, names):
        super().__init__(name="log_window")
        self.names = tuple(names)
        self.sums = tf.Variable(tf.zeros([len(self.names)], tf.float64), trainable=False, name="sums")
        self.count = tf.Variable(0, trainable=False, dtype=tf.int64, name="count")

    def add(self, metrics):
        """Adds one step's metrics (graph ops; a name the step does not return adds 0)."""
        self.sums.assign_add(_vector(metrics, self.names))
        self.count.assign_add(1)

    def read(self, present):
        """(sums dict over the names in `present`, count): one read of the device's values."""
        return _by_name(self.sums, self.names, present), int(self.count.numpy())

    def reset(self):
        self.sums.assign(tf.zeros_like(self.sums))
        self.count.assign(0)


class StepWatch(tf.Module):
    """What the host needs of every step without reading it back each step: the last step's metrics
    (for the progress line) and the first step whose loss was not finite, with that loss. Not part
    of the checkpoint: a checkpoint is only written while no step has diverged."""

    def __init__(self, names):
        super().__init__(name="step_watch")
        self.names = tuple(names)
        self.last = tf.Variable(tf.zeros([len(self.names)], tf.float64), trainable=False, name="last")
        self.bad_step = tf.Variable(-1, trainable=False, dtype=tf.int64, name="bad_step")
        self.bad_loss = tf.Variable(0.0, trainable=False, dtype=tf.float64, name="bad_loss")

    def add(self, metrics, step):
        """Records the metrics of the step that follows `step` (graph ops)."""
        self.last.assign(_vector(metrics, self.names))
        loss = tf.cast(metrics["loss"], tf.float64)
        first = tf.logical_and(tf.logical_not(tf.math.is_finite(loss)), self.bad_step < 0)
        self.bad_loss.assign(tf.where(first, loss, self.bad_loss))
        self.bad_step.assign(tf.where(first, tf.cast(step, tf.int64) + 1, self.bad_step))

    def divergence(self):
        """(step, loss) of the first non-finite loss, or None: one read of a scalar."""
        step = int(self.bad_step.numpy())
        return None if step < 0 else (step, float(self.bad_loss.numpy()))

    def last_metrics(self, present):
        return _by_name(self.last, self.names, present)


class Trainer:
    """The training state of one run of `task`: strategy, the task's objects, step counter, learning
    rate, plateau decay, compiled step, checkpoint and manager.

    Attributes: task, model, step, lr, plateau (or None), strategy, write_dir, is_chief,
    train_step (batch -> metrics dict), checkpoint, manager.
    """

    def __init__(self, task, cfg):
        self.task = task
        self.cfg = cfg
        self.strategy = make_strategy(cfg.strategy)
        with self.strategy.scope():
            self.step = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
            self.lr = tf.Variable(cfg.learning_rate, trainable=False, dtype=tf.float32, name="learning_rate")
            objects = task.build(self.strategy, self.lr)
        self.model = task.model
        self.plateau = (PlateauDecay(self.lr, cfg.lr_decay, cfg.lr_decay_window)
                        if task.plateau_metric else None)
        # The progress-line sums and the per-step watch live on the device, updated by the compiled
        # step: the host reads them once per progress line, never per step (a GPU step then never
        # waits for the host).
        self.window = LogWindow(task.scalars)
        self.watch = StepWatch(task.scalars)
        self.write_dir = write_dir(self.strategy, cfg.model_dir)
        self.is_chief = self.write_dir == cfg.model_dir
        self._tracked = dict(objects, step=self.step, learning_rate=self.lr, log_window=self.window)
        if self.plateau is not None:
            self._tracked["plateau"] = self.plateau
        self.track()
        self.train_step = self._make_train_step()

    def track(self, **objects):
        """(Re)builds the checkpoint and its manager over the training state plus `objects` (the input
        iterator, the progress window)."""
        self._tracked.update(objects)
        self.checkpoint = tf.train.Checkpoint(**self._tracked)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.write_dir, self.cfg.keep_checkpoints)

    def _account(self, metrics):
        """The step's bookkeeping on the device: progress-line sums, last metrics, divergence watch,
        the plateau window. Returns the metrics."""
        self.window.add(metrics)
        self.watch.add(metrics, self.step)
        if self.plateau is not None:
            self.plateau.add(metrics[self.task.plateau_metric])
        return metrics

    def _make_train_step(self):
        task, strategy = self.task, self.strategy
        if strategy.num_replicas_in_sync == 1 and self.cfg.strategy == "default":
            def step_fn(batch):
                return self._account(task.apply(*task.compute(batch, self.step, 1)))
            return tf.function(step_fn, jit_compile=self.cfg.jit_compile)

        replicas = strategy.num_replicas_in_sync

        def replica_fn(batch):
            grads, metrics = task.compute(batch, self.step, replicas)
            return [tf.convert_to_tensor(g) for g in grads], metrics
        compute = tf.function(replica_fn, jit_compile=self.cfg.jit_compile)

        @tf.function
        def distributed_step(dist_batch):
            grads, metrics = strategy.run(compute, args=(dist_batch,))
            grads = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
            metrics = {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in metrics.items()}
            return self._account(task.apply(grads, metrics))
        return distributed_step


def global_masked_mean(values, weight):
    """sum(values * weight) / sum(weight) with the weight total taken over the global batch: under a
    strategy with several replicas the replicas' results add up to the mean over the whole batch
    (the loss of a single process with the same global batch). values, weight: same shape."""
    return tf.reduce_sum(values * weight) / tf.maximum(global_sum(tf.reduce_sum(weight)), 1.0)


def global_sum(value):
    """`value` summed over the replicas (itself on one replica)."""
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        return context.all_reduce(tf.distribute.ReduceOp.SUM, value)
    return value


def scalar(name, value):
    """tf.summary.scalar without the tensorboard package: a float32 scalar tagged for the Scalars dashboard."""
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(name, tf.constant(value, tf.float32), metadata=metadata)


def run(task, cfg):
    """Trains `task` to cfg.max_steps in cfg.model_dir (resuming from its newest intact checkpoint);
    returns the Trainer. A refused start leaves no model_dir behind when it created it. One writer per
    folder: a second run on the same folder is refused at once, naming the holder's pid."""
    with io_utils.folder_lock(write_dir(make_strategy(cfg.strategy), cfg.model_dir), "--model_dir"):
        created = not os.path.exists(cfg.model_dir)
        try:
            return _run(task, cfg)
        except BaseException:
            if created and os.path.isdir(cfg.model_dir) and tf.train.latest_checkpoint(cfg.model_dir) is None:
                shutil.rmtree(cfg.model_dir, ignore_errors=True)
            raise


def _resume(trainer, cfg):
    """Restores the newest intact checkpoint; returns its path or None."""
    resume_from = checkpoints.newest_intact(trainer.manager.checkpoints, f"--model_dir={cfg.model_dir}")
    if not resume_from:
        return None
    try:
        trainer.checkpoint.restore(resume_from).assert_existing_objects_matched()
    except (AssertionError, ValueError) as e:
        raise InputError(f"--model_dir={cfg.model_dir}: checkpoint {resume_from} does not fit the model of this "
                         f"run ({str(e).splitlines()[0][:200]})") from None
    if not tf.train.load_checkpoint(resume_from).has_tensor("data/.ATTRIBUTES/ITERATOR_STATE"):
        if cfg.strategy != "default":
            why = f"--strategy={cfg.strategy} iterators cannot be checkpointed"
        elif not trainer.task.checkpoint_input:
            why = f"--model={cfg.model} keeps its whole training set in one shuffle buffer, too large to save"
        else:
            why = "it was written by an older version"
        trainer.task.log(f"note: {resume_from} has no input-pipeline state ({why}): the training data restarts "
                         f"from its beginning, so this run will differ from an uninterrupted one")
    trainer.task.log(f"resumed from {resume_from} at step {int(trainer.step.numpy())} "
                     f"(lr {float(trainer.lr.numpy()):.4g})")
    return resume_from


def _run(task, cfg):
    # Python, NumPy, TensorFlow and Keras seeds: Keras's seeds the initialisers alike with and
    # without a strategy scope (tf.random.set_seed alone does not).
    keras.utils.set_random_seed(cfg.seed)
    os.makedirs(cfg.model_dir, exist_ok=True)
    trainer = Trainer(task, cfg)
    if trainer.is_chief:
        task.write_config(cfg.model_dir)
    else:
        os.makedirs(trainer.write_dir, exist_ok=True)
    dataset = task.dataset()
    if cfg.strategy != "default":
        # Every worker reads the whole input and keeps its slice of each global batch (DATA sharding),
        # so a distributed run trains on exactly the batches of a single-process run.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = trainer.strategy.experimental_distribute_dataset(dataset.with_options(options))
    iterator = iter(dataset)
    # tf.distribute's iterators are not checkpointable: under a strategy the input restarts on resume.
    save_input = cfg.strategy == "default" and task.checkpoint_input
    trainer.track(**({"data": iterator} if save_input else {}))
    resume_from = _resume(trainer, cfg)
    task.start(trainer, bool(resume_from))
    writer = tf.summary.create_file_writer(os.path.join(trainer.write_dir, "train"))
    dev_writer = tf.summary.create_file_writer(os.path.join(trainer.write_dir, "dev"))

    start_step = int(trainer.step.numpy())
    t0 = last_t = time.time()
    clock = StepClock()
    if not resume_from:
        trainer.window.reset()
    plateau_left = trainer.plateau.steps_to_window_end() if trainer.plateau is not None else None
    present = None  # the metric names the step returns (known after its first call)
    recent = []  # (step, batch) since the last divergence check: the message names the batch
    step = start_step

    def check_finite():
        bad = trainer.watch.divergence()
        if bad is not None:
            bad_step, loss = bad
            batch = dict(recent).get(bad_step)
            where = task.describe_batch(batch) if batch is not None else "batch"
            raise InputError(f"training diverged: loss is {loss} at step {bad_step} ({where}); stopped without "
                             f"saving, the last good checkpoint ({trainer.manager.latest_checkpoint or 'none'}) "
                             f"is kept")
        recent.clear()

    while step < cfg.max_steps:
        started = clock.clock()
        batch = next(iterator)
        out = trainer.train_step(batch)  # not read here: the metrics stay on the device
        present = present or set(out)
        clock.step_done(clock.clock() - started)
        trainer.step.assign_add(1)
        step += 1
        recent.append((step, batch))
        if plateau_left is not None:
            plateau_left -= 1
            if plateau_left == 0:
                check_finite()
                if trainer.plateau.end_window():
                    task.log(f"step {step}: learning rate decayed to {float(trainer.lr.numpy()):.4g}")
                plateau_left = trainer.plateau.window
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            check_finite()
            sums, in_window = trainer.window.read(present)
            means = {k: v / in_window for k, v in sums.items()}
            now = time.time()
            sps = min(in_window, step - start_step) / max(now - last_t, 1e-9)  # steps of this window run here
            with writer.as_default(step=step):
                for k, v in means.items():
                    scalar(k, v)
                scalar("learning_rate", float(trainer.lr.numpy()))
                scalar("steps_per_s", sps)
            task.log(task.log_line(step, means, trainer.watch.last_metrics(present), sps,
                                   clock.eta(cfg.max_steps - step)))
            if step % cfg.log_every == 0:  # a last, partial window stays open: a resumed run continues it
                trainer.window.reset()
                last_t = now
        started = clock.clock()
        if step % cfg.steps_per_checkpoint == 0 or step == cfg.max_steps:
            check_finite()
            trainer.manager.save(checkpoint_number=step)
            io_utils.fault_point("train_checkpoint")
        if cfg.steps_per_eval > 0 and (step % cfg.steps_per_eval == 0 or step == cfg.max_steps):
            check_finite()
            dev = task.dev()
            if dev is not None:
                values, line = dev
                with dev_writer.as_default(step=step):
                    for k, v in values.items():
                        scalar(k, v)
                task.log(f"step {step} {line}")
        clock.overhead_done(clock.clock() - started)
    writer.flush()
    dev_writer.flush()
    if step > start_step:
        if trainer.is_chief:
            task.finish(trainer, step, time.time() - t0)
        task.log(f"done: step {step}, {time.time() - t0:.1f} s, checkpoint {trainer.manager.latest_checkpoint}")
    else:
        task.log(f"nothing to do: {cfg.model_dir} is already at step {step} (--max_steps={cfg.max_steps})")
    return trainer
