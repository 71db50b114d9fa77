"""`--mode=train` of the ECM family (EcmFamily.train): teacher-forced training of Seq2Seq / Emb / ECM (and ablations).

SGD (lr 0.5) with global-norm clipping, the original plateau decay, checkpoints with resume,
TensorBoard scalars, periodic dev perplexity per emotion, Seq2Seq -> ECM warm start (--init_from).
"""

import math
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from ecm_tf import checkpoints
from ecm_tf import config
from ecm_tf import emotions
from ecm_tf.data import fingerprint
from ecm_tf.errors import InputError
from ecm_tf.config import MODEL_SETTINGS
from ecm_tf.models.ecm import ecm_model
from ecm_tf.models.ecm.loss import ecm_loss
from ecm_tf.models.ecm import warm_start
from ecm_tf.training.eta import StepClock
from ecm_tf.training.plateau import PlateauDecay

BATCH_KEYS = ("post", "post_len", "response", "response_len", "emotion", "emotion_word")
SCALARS = ("loss", "nll", "selector", "imemory", "ppl", "alpha_mean", "grad_norm")
# Settings that may differ when a training run is resumed (they do not change the model; the data
# folder's vocabularies must still match the model's fingerprint).
RESUMABLE = ("data_dir",)


def make_strategy(name):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()  # the cluster comes from TF_CONFIG (docs/model.md)
    return tf.distribute.get_strategy()


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


def write_config(cfg, model, model_dir):
    """Saves config.json (vocabulary sizes, data fingerprint) and copies of the vocabularies; refuses
    to resume with other model settings or with another vocabulary (data/fingerprint.py)."""
    path = os.path.join(model_dir, "config.json")
    if os.path.exists(path):
        saved = config.with_legacy_settings(ecm_model.saved_config(model_dir))  # settings it predates: as then
        for name in MODEL_SETTINGS + ("post_vocab_size", "response_vocab_size"):
            if name in RESUMABLE or name not in saved:
                continue
            now = getattr(model, name) if name in ("post_vocab_size", "response_vocab_size") else getattr(cfg, name)
            if saved[name] != now:
                raise InputError(f"--model_dir={model_dir} holds a model trained with {name}={saved[name]}; "
                                 f"this run has {name}={now} (use another --model_dir)")
        fingerprint.check(saved, cfg.data_dir, model_dir)
    fingerprint.keep_copies(cfg.data_dir, model_dir)
    cfg.replace(post_vocab_size=model.post_vocab_size, response_vocab_size=model.response_vocab_size,
                **{fingerprint.KEY: fingerprint.of(cfg.data_dir)}).save(model_dir)


class Trainer:
    """Builds the model, optimizer, checkpoint and step functions for one training run.

    Args:
      cfg: Config of the run.
      model_fn: optional callable returning the model (built inside the strategy scope);
        default: ecm_model.build_model(cfg, cfg.data_dir).
    """

    def __init__(self, cfg, model_fn=None):
        self.cfg = cfg
        self.strategy = make_strategy(cfg.strategy)
        with self.strategy.scope():
            self.model = model_fn() if model_fn else ecm_model.build_model(cfg, cfg.data_dir)
            self.optimizer = keras.optimizers.SGD(learning_rate=cfg.learning_rate)
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, trainable=False, dtype=tf.int64, name="global_step")
            self.lr = tf.Variable(cfg.learning_rate, trainable=False, dtype=tf.float32, name="learning_rate")
        self.plateau = PlateauDecay(self.lr, cfg.lr_decay, cfg.lr_decay_window)
        self.write_dir = write_dir(self.strategy, cfg.model_dir)
        self.is_chief = self.write_dir == cfg.model_dir
        self._tracked = dict(model=self.model, optimizer=self.optimizer, step=self.step, learning_rate=self.lr,
                             plateau=self.plateau)
        self.track()
        self.train_step = self._make_train_step()
        self.eval_step = tf.function(self._eval_step, reduce_retracing=True)  # dev batches vary in length

    def track(self, **objects):
        """(Re)builds the checkpoint and its manager over the training state plus `objects` (the input
        iterator, the progress window)."""
        self._tracked.update(objects)
        self.checkpoint = tf.train.Checkpoint(**self._tracked)
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.write_dir, self.cfg.keep_checkpoints)

    def _compute(self, batch):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            parts = ecm_loss(self.model(batch, training=True), batch, self.cfg)
            scaled = parts["loss"] / self.strategy.num_replicas_in_sync
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(scaled, variables)]
        return grads, {k: parts[k] for k in SCALARS if k in parts}

    def _apply(self, grads, metrics):
        self.optimizer.learning_rate.assign(self.lr)
        grads, norm = tf.clip_by_global_norm(grads, self.cfg.clip_norm)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        metrics["grad_norm"] = norm
        return metrics

    def _make_train_step(self):
        if self.strategy.num_replicas_in_sync == 1 and self.cfg.strategy == "default":
            def step(batch):
                return self._apply(*self._compute(batch))
            return tf.function(step, jit_compile=self.cfg.jit_compile)

        compute = tf.function(self._compute, jit_compile=self.cfg.jit_compile)
        strategy = self.strategy

        @tf.function
        def distributed_step(dist_batch):
            grads, metrics = strategy.run(compute, args=(dist_batch,))
            grads = [strategy.reduce(tf.distribute.ReduceOp.SUM, g, axis=None) for g in grads]
            metrics = {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in metrics.items()}
            return self._apply(grads, metrics)
        return distributed_step

    def _eval_step(self, batch):
        parts = ecm_loss(self.model(batch, training=False), batch, self.cfg)
        return parts["example_nll"], parts["example_tokens"]

    def dev_perplexity(self, dataset):
        """{"all": ppl, emotion name: ppl} over one pass of `dataset`."""
        nll = np.zeros(emotions.NUM_EMOTIONS)
        tokens = np.zeros(emotions.NUM_EMOTIONS)
        for batch in dataset:
            ex_nll, ex_tok = self.eval_step({k: batch[k] for k in BATCH_KEYS})
            emo = batch["emotion"].numpy()
            np.add.at(nll, emo, ex_nll.numpy())
            np.add.at(tokens, emo, ex_tok.numpy())
        out = {"all": math.exp(nll.sum() / max(tokens.sum(), 1.0))}
        for e in range(emotions.NUM_EMOTIONS):
            if tokens[e] > 0:
                out[emotions.emotion_name(e)] = math.exp(nll[e] / tokens[e])
        return out


def describe_batch(batch):
    """A short description of a training batch for error messages (size, lengths, emotions)."""
    if not isinstance(batch.get("post"), tf.Tensor):  # a distributed (per-replica) batch
        return "distributed batch"
    post_len, response_len = batch["post_len"].numpy(), batch["response_len"].numpy()
    counts = np.bincount(batch["emotion"].numpy(), minlength=emotions.NUM_EMOTIONS)
    return (f"batch of {len(post_len)} pairs, post lengths {post_len.min()}-{post_len.max()}, response lengths "
            f"{response_len.min()}-{response_len.max()}, emotions "
            + ", ".join(f"{emotions.emotion_name(e)} {n}" for e, n in enumerate(counts) if n))


def _scalar(name, value):
    """tf.summary.scalar without the tensorboard package: a float32 scalar tagged for the Scalars dashboard."""
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    tf.summary.write(name, tf.constant(value, tf.float32), metadata=metadata)


def _initialise(trainer, cfg):
    """Fresh run: optional Seq2Seq warm start and pretrained word vectors."""
    if cfg.pretrained_embeddings:
        print(warm_start.apply_pretrained_embeddings(
            trainer.model, cfg.pretrained_embeddings, cfg.data_dir, cfg.seed), flush=True)
    if cfg.init_from:
        restored, initialised = warm_start.init_from(trainer.model, cfg.init_from, cfg)
        print(f"init_from {cfg.init_from}: restored {len(restored)} shared variables, "
              f"initialised {len(initialised)} emotion variables fresh", flush=True)
        for name in restored:
            print(f"  restored     {name}", flush=True)
        for name in initialised:
            print(f"  initialised  {name}", flush=True)


class LogWindow(tf.Module):
    """The running sums of the metrics since the last progress line, kept in the checkpoint so that a
    resumed run prints the same means as an uninterrupted one (sums in float64, as in Python)."""

    def __init__(self):
        super().__init__(name="log_window")
        self.sums = tf.Variable(tf.zeros([len(SCALARS)], tf.float64), trainable=False, name="sums")
        self.count = tf.Variable(0, trainable=False, dtype=tf.int64, name="count")

    def store(self, sums, count):
        self.sums.assign([sums.get(k, 0.0) for k in SCALARS])
        self.count.assign(count)

    def load(self, present):
        """(sums dict over the metric names in `present`, count)."""
        values = self.sums.numpy().tolist()
        return {k: values[i] for i, k in enumerate(SCALARS) if k in present}, int(self.count.numpy())


def train(cfg):
    """Trains to cfg.max_steps (resuming from model_dir's newest intact checkpoint); returns the trainer.

    Resume is exact: a checkpoint holds the model, optimizer, step, learning rate, plateau state,
    the training input iterator (shuffle buffers and position: tf.data iterator checkpointing) and
    the progress-line sums, so a run stopped at any checkpoint and restarted gives the same weights
    and logged losses as an uninterrupted one. (ECM training draws no other random numbers.)
    A refused start leaves no model_dir behind when it created it.
    """
    created = not os.path.exists(cfg.model_dir)
    try:
        return _train(cfg)
    except BaseException:
        if created and os.path.isdir(cfg.model_dir) and tf.train.latest_checkpoint(cfg.model_dir) is None:
            shutil.rmtree(cfg.model_dir, ignore_errors=True)
        raise


def _train(cfg):
    from ecm_tf.data import pipeline, tfrecords

    keras.utils.set_random_seed(cfg.seed)
    os.makedirs(cfg.model_dir, exist_ok=True)
    trainer = Trainer(cfg)
    if trainer.is_chief:
        write_config(cfg, trainer.model, cfg.model_dir)
    else:
        os.makedirs(trainer.write_dir, exist_ok=True)
    dataset = pipeline.make_dataset(cfg.data_dir, "train", cfg, training=True)
    dataset = dataset.map(lambda b: {k: b[k] for k in BATCH_KEYS})
    if cfg.strategy != "default":
        # Every worker reads the whole input and keeps its slice of each global batch (DATA sharding),
        # so a distributed run trains on exactly the batches of a single-process run.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        dataset = trainer.strategy.experimental_distribute_dataset(dataset.with_options(options))
    iterator = iter(dataset)
    window = LogWindow()
    # tf.distribute's iterators are not checkpointable: under a strategy the input restarts on resume.
    trainer.track(log_window=window, **({"data": iterator} if cfg.strategy == "default" else {}))
    resume_from = checkpoints.newest_intact(trainer.manager.checkpoints, f"--model_dir={cfg.model_dir}")
    if resume_from:
        try:
            trainer.checkpoint.restore(resume_from).assert_existing_objects_matched()
        except (AssertionError, ValueError) as e:
            raise InputError(f"--model_dir={cfg.model_dir}: checkpoint {resume_from} does not fit the model of this "
                             f"run ({str(e).splitlines()[0][:200]})") from None
        if not tf.train.load_checkpoint(resume_from).has_tensor("data/.ATTRIBUTES/ITERATOR_STATE"):
            why = (f"--strategy={cfg.strategy} iterators cannot be checkpointed" if cfg.strategy != "default"
                   else "it was written by an older version")
            print(f"note: {resume_from} has no input-pipeline state ({why}): the training data restarts "
                  f"from its beginning, so this run will differ from an uninterrupted one", flush=True)
        print(f"resumed from {resume_from} at step {int(trainer.step.numpy())} "
              f"(lr {float(trainer.lr.numpy()):.4g})", flush=True)
    else:
        _initialise(trainer, cfg)
    has_dev = bool(tfrecords.split_files(cfg.data_dir, "dev"))
    writer = tf.summary.create_file_writer(os.path.join(trainer.write_dir, "train"))
    dev_writer = tf.summary.create_file_writer(os.path.join(trainer.write_dir, "dev"))

    start_step = int(trainer.step.numpy())
    t0 = last_t = time.time()
    clock = StepClock()
    sums, in_window = window.load(SCALARS) if resume_from else ({}, 0)
    step = start_step
    while step < cfg.max_steps:
        started = clock.clock()
        batch = next(iterator)
        metrics = {k: float(v) for k, v in trainer.train_step(batch).items()}
        clock.step_done(clock.clock() - started)
        if not math.isfinite(metrics["loss"]):
            raise InputError(f"training diverged: loss is {metrics['loss']} at step {step + 1} ({describe_batch(batch)}); "
                             f"stopped without saving, the last good checkpoint "
                             f"({trainer.manager.latest_checkpoint or 'none'}) is kept")
        trainer.step.assign_add(1)
        step += 1
        if trainer.plateau.update(metrics["nll"]):
            print(f"step {step}: learning rate decayed to {float(trainer.lr.numpy()):.4g}", flush=True)
        for k, v in metrics.items():
            sums[k] = sums.get(k, 0.0) + v
        in_window += 1
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            means = {k: v / in_window for k, v in sums.items()}
            now = time.time()
            sps = min(in_window, step - start_step) / max(now - last_t, 1e-9)  # steps of this window run here
            with writer.as_default(step=step):
                for k, v in means.items():
                    _scalar(k, v)
                _scalar("learning_rate", float(trainer.lr.numpy()))
                _scalar("steps_per_s", sps)
            print(f"step {step}/{cfg.max_steps} loss {means['loss']:.4f} (nll {means['nll']:.4f} "
                  f"sel {means['selector']:.4f} mem {means['imemory']:.4f}) ppl {math.exp(means['nll']):.2f} "
                  f"alpha {means['alpha_mean']:.3f} lr {float(trainer.lr.numpy()):.4g} {sps:.2f} steps/s "
                  f"{sps * cfg.batch_size:.1f} pairs/s ETA {clock.eta(cfg.max_steps - step)}", flush=True)
            if step % cfg.log_every == 0:  # a last, partial window stays open: a resumed run continues it
                sums, in_window, last_t = {}, 0, now
        started = clock.clock()
        if step % cfg.steps_per_checkpoint == 0 or step == cfg.max_steps:
            window.store(sums, in_window)
            trainer.manager.save(checkpoint_number=step)
        if has_dev and cfg.steps_per_eval > 0 and (step % cfg.steps_per_eval == 0 or step == cfg.max_steps):
            dev = trainer.dev_perplexity(pipeline.make_dataset(cfg.data_dir, "dev", cfg, training=False))
            with dev_writer.as_default(step=step):
                for k, v in dev.items():
                    _scalar(f"perplexity/{k}", v)
            print(f"step {step} dev perplexity " + " ".join(f"{k} {v:.2f}" for k, v in dev.items()), flush=True)
        clock.overhead_done(clock.clock() - started)
    writer.flush()
    dev_writer.flush()
    if step > start_step:
        print(f"done: step {step}, {time.time() - t0:.1f} s, checkpoint {trainer.manager.latest_checkpoint}",
              flush=True)
    else:
        print(f"nothing to do: {cfg.model_dir} is already at step {step} (--max_steps={cfg.max_steps})", flush=True)
    return trainer
