"""Training of CERG and P&E2R (`--mode=train` with --model=cerg or --model=pe2r): `run(cfg)`.

Reads the char-level prep output (data.py), builds the joint character vocabulary
(char_vocab.txt) and trains with Adam (--learning_rate, global-norm clip --clip_norm), teacher
forcing and cross-entropy on the response characters (+ _EOS). CERG also trains its substitute
masked LM (own Adam) and feeds itself the replaced characters of replacement.py. `CergTask` holds
these hooks; the shared loop (training/loop.py) runs them, with --strategy, checkpoints and
resume, NaN stop, progress lines with an ETA and TensorBoard. Writes into --model_dir:
config.json, char_vocab.txt, checkpoints (resumed when present), retrieval_index.json (the BM25
index, built once at the end of a run) and train_stats.json.
"""

import os
import sys

import keras
import numpy as np
import tensorflow as tf

from ecm_tf import io_utils
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import data
from ecm_tf.models.cerg import models
from ecm_tf.models.cerg import replacement
from ecm_tf.models.cerg.retrieval import Bm25Index
from ecm_tf.models.pe2r.settings import Pe2rSettings
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError
from ecm_tf.training import loop

STATS_FILE = "train_stats.json"


def response_loss(logits, target):
    """Mean cross-entropy over the non-PAD targets. logits [B, T, V], target [B, T]. Under a strategy
    with several replicas, a replica's share of the mean over the global batch (loop.global_masked_mean)."""
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)  # [B, T]
    weight = tf.cast(tf.not_equal(target, char_vocab.PAD_ID), tf.float32)
    return loop.global_masked_mean(ce, weight)


def _vocabulary(cfg, pairs, resume):
    if resume:
        return char_vocab.CharVocabulary.load(cfg.model_dir)
    return char_vocab.build((chars for p, r, _ in pairs for chars in (p, r)), cfg.vocab_size)  # saved by the chief


def _dev_arrays(cfg, vocab):
    if not tfrecords.split_files(cfg.data_dir, "dev"):
        return None
    pairs, _ = data.load_split(cfg.data_dir, "dev", cfg.cerg_max_chars)
    return data.to_arrays(vocab, pairs, cfg.cerg_max_chars) if pairs else None


class CergTask(loop.Task):
    """CERG's and P&E2R's hooks for the training loop (training/loop.py).

    Args:
      cfg: Config (model, sizes, learning_rate, clip_norm, replace_rate, replace_ramp_steps, seed, ...).
      vocab_size: int.
      pairs: (post chars, response chars, emotion) training pairs (None: no input, e.g. a bench).
      dev_arrays: optional arrays of the dev pairs (data.to_arrays).
      vocab: the CharVocabulary of `pairs`.
      quiet: no progress lines.
    """

    scalars = ("loss", "mlm_loss")
    # The input is the whole training set in one shuffle buffer (tf.data would save all of it in every
    # checkpoint): a resumed run restarts its data, and says so.
    checkpoint_input = False

    def __init__(self, cfg, vocab_size, pairs=None, dev_arrays=None, vocab=None, quiet=False):
        self.cfg = cfg
        self.vocab_size = vocab_size
        self.pairs = pairs
        self.dev_arrays = dev_arrays
        self.vocab = vocab
        self.stats = {"history": []}
        if quiet:
            self.log = lambda line: None

    def build(self, strategy, learning_rate):
        cfg, settings = self.cfg, self.cfg.to_dict()
        # Adam at the constant --learning_rate (no plateau decay: the loop's variable stays unused).
        self.model = models.build(settings, self.vocab_size)
        self.optimizer = keras.optimizers.Adam(cfg.learning_rate, global_clipnorm=cfg.clip_norm)
        self.optimizer.build(self.model.trainable_variables)
        objects = dict(model=models.variables(self.model), optimizer=models.variables(self.optimizer))
        self.mlm = None
        if cfg.model == "cerg":
            self.mlm = models.build_mlm(settings, self.vocab_size)
            self.mlm_optimizer = keras.optimizers.Adam(cfg.learning_rate, global_clipnorm=cfg.clip_norm)
            self.mlm_optimizer.build(self.mlm.trainable_variables)
            objects.update(mlm=models.variables(self.mlm), mlm_optimizer=models.variables(self.mlm_optimizer))
        self.eval_step = tf.function(self._eval_step)
        return objects

    def compute(self, batch, step, replicas):
        seed = tf.stack([tf.cast(self.cfg.seed, tf.int64), step])
        aug_seed, mlm_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
        with tf.GradientTape(persistent=self.mlm is not None) as tape:
            if self.mlm is None:
                logits = self.model.batch_logits(batch, training=True)
                mlm_loss = tf.constant(0.0)
            else:
                tokens, segments = self.model.sequence(batch["emotion"], batch["post"], batch["response"])
                rate, p_model = replacement.schedule(step, self.cfg.replace_rate, self.cfg.replace_ramp_steps)
                inputs = replacement.replace(self.mlm, tokens, segments, rate, p_model, aug_seed)
                logits = self.model.response_logits(inputs, segments, training=True)
                mlm_loss = replacement.mlm_loss(self.mlm, tokens, segments, mlm_seed)
            # Each replica's share of the global-batch means: the gradients are summed across replicas.
            loss = response_loss(logits, batch["target"])
        grads = tape.gradient(loss, self.model.trainable_variables)
        if self.mlm is not None:
            grads += tape.gradient(mlm_loss, self.mlm.trainable_variables)
        return grads, {"loss": loop.global_sum(loss), "mlm_loss": loop.global_sum(mlm_loss)}

    def apply(self, grads, metrics):
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(grads[:len(variables)], variables))  # clipped by global_clipnorm
        if self.mlm is not None:
            self.mlm_optimizer.apply_gradients(zip(grads[len(variables):], self.mlm.trainable_variables))
        return metrics

    def dataset(self):
        arrays = data.to_arrays(self.vocab, self.pairs, self.cfg.cerg_max_chars)
        return dataset(arrays, self.cfg.batch_size, self.cfg.seed)

    def write_config(self, model_dir):
        if not os.path.exists(os.path.join(model_dir, char_vocab.FILE)):
            self.vocab.save(model_dir)
        self.cfg.save(model_dir)

    def start(self, trainer, resumed):
        self.log(f"{self.cfg.model}: {len(self.pairs)} training pairs, vocabulary {len(self.vocab)}, "
                 f"{sum(int(np.prod(v.shape)) for v in self.model.trainable_variables)} parameters, "
                 f"starting at step {int(trainer.step.numpy())}")

    def log_line(self, step, means, last, speed, eta):
        self.stats["history"].append({"step": step, "loss": round(means["loss"], 4)})
        line = f"step {step} loss {means['loss']:.3f} ppl {np.exp(means['loss']):.1f}"
        if self.mlm is not None:
            rate, _ = replacement.schedule(step, self.cfg.replace_rate, self.cfg.replace_ramp_steps)
            line += f" mlm {last['mlm_loss']:.3f} replace {rate:.4f}"
        return f"{line} ({speed * self.cfg.batch_size:.0f} pairs/s) ETA {eta}"

    def dev(self):
        if self.dev_arrays is None:
            return None
        dev = self.dev_loss(self.dev_arrays, self.cfg.batch_size)
        self.stats["dev_loss"] = round(dev, 4)
        return {"dev_loss": dev, "perplexity/all": float(np.exp(dev))}, f"dev loss {dev:.3f} ppl {np.exp(dev):.1f}"

    def finish(self, trainer, step, seconds):
        Bm25Index([p for p, _, _ in self.pairs], [r for _, r, _ in self.pairs]).save(self.cfg.model_dir)
        history = self.stats["history"]
        self.stats.update(steps=step, pairs=len(self.pairs), vocab=len(self.vocab), seconds=round(seconds, 1),
                          final_loss=history[-1]["loss"] if history else None)
        io_utils.write_json(os.path.join(self.cfg.model_dir, STATS_FILE), self.stats)
        self.log(f"{self.cfg.model}: wrote {self.cfg.model_dir} (BM25 index of {len(self.pairs)} pairs, {STATS_FILE})")

    def _eval_step(self, batch):
        target = batch["target"]
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=self.model.batch_logits(batch))
        weight = tf.cast(tf.not_equal(target, char_vocab.PAD_ID), tf.float32)
        return tf.reduce_sum(ce * weight), tf.reduce_sum(weight)

    def dev_loss(self, arrays, batch_size):
        total, count = 0.0, 0.0
        for start in range(0, len(arrays["emotion"]), batch_size):
            s, n = self.eval_step({k: v[start: start + batch_size] for k, v in arrays.items()})
            total, count = total + float(s), count + float(n)
        return total / max(count, 1.0)


def Trainer(cfg, vocab_size):
    """The training state of a CERG / P&E2R model without input (bench_train): .model, .train_step(batch)."""
    return loop.Trainer(CergTask(cfg, vocab_size), cfg)


def dataset(arrays, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    ds = ds.shuffle(len(arrays["emotion"]), seed=seed, reshuffle_each_iteration=True).repeat()
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def train(cfg, pairs, dev_arrays=None, vocab=None, quiet=False):
    """Trains on (post chars, response chars, emotion) `pairs` into cfg.model_dir; returns (trainer, stats)."""
    if cfg.model not in models.FAMILIES:
        raise InputError(f"--model={cfg.model}: the CERG trainer handles {' or '.join(models.FAMILIES)}")
    resume = models.has_checkpoint(cfg.model_dir)
    if resume and cfg.model == "pe2r":
        saved = Pe2rSettings.from_values(io_utils.read_json(os.path.join(cfg.model_dir, "config.json")))
        if saved.pe2r_cell != cfg.pe2r_cell:
            raise InputError(f"--model_dir={cfg.model_dir} holds a P&E2R model with pe2r_cell="
                             f"{saved.pe2r_cell}; this run has --pe2r_cell={cfg.pe2r_cell} "
                             f"(use another --model_dir)")
    os.makedirs(cfg.model_dir, exist_ok=True)
    vocab = vocab or _vocabulary(cfg, pairs, resume)
    task = CergTask(cfg, len(vocab), pairs, dev_arrays, vocab, quiet)
    trainer = loop.run(task, cfg)
    return trainer, task.stats


def train_folder(cfg):
    """--mode=train of CERG / P&E2R (CergFamily.train): the char-level prep folder cfg.data_dir into cfg.model_dir."""
    loop.make_strategy(cfg.strategy)  # before reading the data (the first TensorFlow ops)
    pairs, dropped = data.load_split(cfg.data_dir, "train", cfg.cerg_max_chars)
    if not pairs:
        raise InputError(f"--data_dir={cfg.data_dir}: no training pair kept (dropped: {dropped})")
    if dropped:
        print(f"{cfg.model}: dropped {sum(dropped.values())} training pairs {dropped}", file=sys.stderr, flush=True)
    resume = models.has_checkpoint(cfg.model_dir)
    os.makedirs(cfg.model_dir, exist_ok=True)
    vocab = _vocabulary(cfg, pairs, resume)
    train(cfg, pairs, _dev_arrays(cfg, vocab), vocab=vocab)
