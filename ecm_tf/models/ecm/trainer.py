"""`--mode=train` of the ECM family (EcmFamily.train): teacher-forced training of Seq2Seq / Emb / ECM (and ablations).

The ECM hooks (`EcmTask`) of the shared training loop (training/loop.py: strategy, checkpoints with
exact resume, NaN stop, progress lines, TensorBoard): SGD (lr 0.5) with global-norm clipping, the
original plateau decay on the cross-entropy, dev perplexity per emotion, Seq2Seq -> ECM warm start
(--init_from), config.json and vocabulary copies beside the checkpoints.
"""

import math
import os

import keras
import numpy as np
import tensorflow as tf

from ecm_tf import config
from ecm_tf import emotions
from ecm_tf import schema
from ecm_tf.data import fingerprint
from ecm_tf.errors import InputError
from ecm_tf.models.ecm.checkpoint_io import VOCAB_SIZES
from ecm_tf.models.ecm.factory import build_model
from ecm_tf.models.ecm.loss import ecm_loss
from ecm_tf.models.ecm.settings import EcmSettings
from ecm_tf.models.ecm import warm_start
from ecm_tf.training import loop

BATCH_KEYS = ("post", "post_len", "response", "response_len", "emotion", "emotion_word")
SCALARS = ("loss", "nll", "selector", "imemory", "ppl", "alpha_mean", "grad_norm")
# Settings that may differ when a training run is resumed (they do not change the model; the data
# folder's vocabularies must still match the model's fingerprint).
RESUMABLE = ("data_dir",)


def write_config(cfg, model, model_dir):
    """Saves config.json (vocabulary sizes, data fingerprint) and copies of the vocabularies; refuses
    to resume with other model settings (the saved ones of the schema, the data settings) or with
    another vocabulary (data/fingerprint.py)."""
    path = os.path.join(model_dir, "config.json")
    if os.path.exists(path):
        saved = config.read_saved(model_dir)
        then = {**saved, **EcmSettings.saved_values(saved)}  # settings the file predates: as then
        names = [n for n in config.DATA_SETTINGS + EcmSettings.names(saved=True) + VOCAB_SIZES if n not in RESUMABLE]
        now = {**cfg.to_dict(), **{n: getattr(model, n) for n in VOCAB_SIZES}}
        differs = schema.first_difference(names, then, now)
        if differs:
            name, was, here = differs
            raise InputError(f"--model_dir={model_dir} holds a model trained with {name}={was}; "
                             f"this run has {name}={here} (use another --model_dir)")
        fingerprint.check(saved, cfg.data_dir, model_dir)
    fingerprint.keep_copies(cfg.data_dir, model_dir)
    cfg.replace(post_vocab_size=model.post_vocab_size, response_vocab_size=model.response_vocab_size,
                **{fingerprint.KEY: fingerprint.of(cfg.data_dir)}).save(model_dir)


class EcmTask(loop.Task):
    """The ECM family's hooks for the training loop (training/loop.py).

    Args:
      cfg: Config of the run.
      model_fn: optional callable returning the model (built inside the strategy scope);
        default: factory.build_model(cfg, cfg.data_dir).
    """

    scalars = SCALARS
    plateau_metric = "nll"  # the original decays on its perplexity term (training/plateau.py)

    def __init__(self, cfg, model_fn=None):
        self.cfg = cfg
        self.model_fn = model_fn

    def build(self, strategy, learning_rate):
        cfg = self.cfg
        self.model = self.model_fn() if self.model_fn else build_model(cfg, cfg.data_dir, cfg.jit_compile)
        self.optimizer = keras.optimizers.SGD(learning_rate=cfg.learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self.lr = learning_rate
        self.eval_step = tf.function(self._eval_step, reduce_retracing=True)  # dev batches vary in length
        return dict(model=self.model, optimizer=self.optimizer)

    def compute(self, batch, step, replicas):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            parts = ecm_loss(self.model(batch, training=True), batch, self.cfg)
            scaled = parts["loss"] / replicas
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(scaled, variables)]
        return grads, {k: parts[k] for k in SCALARS if k in parts}

    def apply(self, grads, metrics):
        self.optimizer.learning_rate.assign(self.lr)
        grads, norm = tf.clip_by_global_norm(grads, self.cfg.clip_norm)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        metrics["grad_norm"] = norm
        return metrics

    def dataset(self):
        from ecm_tf.data import pipeline

        dataset = pipeline.make_dataset(self.cfg.data_dir, "train", self.cfg, training=True)
        return dataset.map(lambda b: {k: b[k] for k in BATCH_KEYS})

    def write_config(self, model_dir):
        write_config(self.cfg, self.model, model_dir)

    def start(self, trainer, resumed):
        if not resumed:
            _initialise(self.model, self.cfg)

    def log_line(self, step, means, last, speed, eta):
        return (f"step {step}/{self.cfg.max_steps} loss {means['loss']:.4f} (nll {means['nll']:.4f} "
                f"sel {means['selector']:.4f} mem {means['imemory']:.4f}) ppl {math.exp(means['nll']):.2f} "
                f"alpha {means['alpha_mean']:.3f} lr {float(self.lr.numpy()):.4g} {speed:.2f} steps/s "
                f"{speed * self.cfg.batch_size:.1f} pairs/s ETA {eta}")

    def dev(self):
        from ecm_tf.data import pipeline, tfrecords

        if not tfrecords.split_files(self.cfg.data_dir, "dev"):
            return None
        dev = self.dev_perplexity(pipeline.make_dataset(self.cfg.data_dir, "dev", self.cfg, training=False))
        return ({f"perplexity/{k}": v for k, v in dev.items()},
                "dev perplexity " + " ".join(f"{k} {v:.2f}" for k, v in dev.items()))

    def describe_batch(self, batch):
        return describe_batch(batch)

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


def Trainer(cfg, model_fn=None):
    """The training state of an ECM run (loop.Trainer over EcmTask): .model, .train_step(batch) -> metrics,
    .task.dev_perplexity(dataset), .lr, .plateau, .step."""
    return loop.Trainer(EcmTask(cfg, model_fn), cfg)


def describe_batch(batch):
    """A short description of a training batch for error messages (size, lengths, emotions)."""
    if not isinstance(batch.get("post"), tf.Tensor):  # a distributed (per-replica) batch
        return "distributed batch"
    post_len, response_len = batch["post_len"].numpy(), batch["response_len"].numpy()
    counts = np.bincount(batch["emotion"].numpy(), minlength=emotions.NUM_EMOTIONS)
    return (f"batch of {len(post_len)} pairs, post lengths {post_len.min()}-{post_len.max()}, response lengths "
            f"{response_len.min()}-{response_len.max()}, emotions "
            + ", ".join(f"{emotions.emotion_name(e)} {n}" for e, n in enumerate(counts) if n))


def _initialise(model, cfg):
    """Fresh run: optional Seq2Seq warm start and pretrained word vectors."""
    if cfg.pretrained_embeddings:
        print(warm_start.apply_pretrained_embeddings(
            model, cfg.pretrained_embeddings, cfg.data_dir, cfg.seed), flush=True)
    if cfg.init_from:
        restored, initialised = warm_start.init_from(model, cfg.init_from, cfg)
        print(f"init_from {cfg.init_from}: restored {len(restored)} shared variables, "
              f"initialised {len(initialised)} emotion variables fresh", flush=True)
        for name in restored:
            print(f"  restored     {name}", flush=True)
        for name in initialised:
            print(f"  initialised  {name}", flush=True)


def train(cfg):
    """Trains to cfg.max_steps (resuming from model_dir's newest intact checkpoint); returns the trainer.

    Resume is exact: a checkpoint holds the model, optimizer, step, learning rate, plateau state,
    the training input iterator (shuffle buffers and position: tf.data iterator checkpointing) and
    the progress-line sums, so a run stopped at any checkpoint and restarted gives the same weights
    and logged losses as an uninterrupted one. (ECM training draws no other random numbers.)
    A refused start leaves no model_dir behind when it created it.
    """
    return loop.run(EcmTask(cfg), cfg)
