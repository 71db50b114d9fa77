"""Training of CERG and P&E2R (`--mode=train` with --model=cerg or --model=pe2r): `run(cfg)`.

Reads the char-level prep output (data.py), builds the joint character vocabulary
(char_vocab.txt) and trains with Adam (--learning_rate, global-norm clip --clip_norm), teacher
forcing and cross-entropy on the response characters (+ _EOS). CERG also trains its substitute
masked LM (own Adam) and feeds itself the replaced characters of replacement.py. Writes into
--model_dir: config.json, char_vocab.txt, checkpoints (resumed when present),
retrieval_index.json (the BM25 index, built once at the end) and train_stats.json.
"""

import os
import sys
import time

import keras
import numpy as np
import tensorflow as tf

from ecm_tf import checkpoints
from ecm_tf import io_utils
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg import data
from ecm_tf.models.cerg import models
from ecm_tf.models.cerg import replacement
from ecm_tf.models.cerg.retrieval import Bm25Index
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError

STATS_FILE = "train_stats.json"


def response_loss(logits, target):
    """Mean cross-entropy over the non-PAD targets. logits [B, T, V], target [B, T]."""
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=logits)  # [B, T]
    weight = tf.cast(tf.not_equal(target, char_vocab.PAD_ID), tf.float32)
    return tf.reduce_sum(ce * weight) / tf.maximum(tf.reduce_sum(weight), 1.0)


def _vocabulary(cfg, pairs, resume):
    if resume:
        return char_vocab.CharVocab.load(cfg.model_dir)
    vocab = char_vocab.build((chars for p, r, _ in pairs for chars in (p, r)), cfg.vocab_size)
    vocab.save(cfg.model_dir)
    return vocab


def _dev_arrays(cfg, vocab):
    if not tfrecords.split_files(cfg.data_dir, "dev"):
        return None
    pairs, _ = data.load_split(cfg.data_dir, "dev", cfg.cerg_max_chars)
    return data.to_arrays(vocab, pairs, cfg.cerg_max_chars) if pairs else None


class Trainer:
    """One model family's training state and compiled step.

    Args:
      cfg: Config (model, sizes, learning_rate, clip_norm, replace_rate, replace_ramp_steps, seed, ...).
      vocab_size: int.
    """

    def __init__(self, cfg, vocab_size):
        self.cfg = cfg
        settings = cfg.to_dict()
        self.model = models.build(settings, vocab_size)
        self.optimizer = keras.optimizers.Adam(cfg.learning_rate, global_clipnorm=cfg.clip_norm)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.optimizer.build(self.model.trainable_variables)
        objects = dict(model=models.variables(self.model), optimizer=models.variables(self.optimizer), step=self.step)
        self.mlm = None
        if cfg.model == "cerg":
            self.mlm = models.build_mlm(settings, vocab_size)
            self.mlm_optimizer = keras.optimizers.Adam(cfg.learning_rate, global_clipnorm=cfg.clip_norm)
            self.mlm_optimizer.build(self.mlm.trainable_variables)
            objects.update(mlm=models.variables(self.mlm), mlm_optimizer=models.variables(self.mlm_optimizer))
        self.checkpoint = tf.train.Checkpoint(**objects)
        self.train_step = tf.function(self._train_step, jit_compile=cfg.jit_compile)
        self.eval_step = tf.function(self._eval_step)

    def _train_step(self, batch):
        seed = tf.stack([tf.cast(self.cfg.seed, tf.int64), self.step])
        aug_seed, mlm_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
        with tf.GradientTape(persistent=self.mlm is not None) as tape:
            if self.mlm is None:
                logits = self.model.batch_logits(batch, training=True)
                mlm_loss = tf.constant(0.0)
            else:
                tokens, segments = self.model.sequence(batch["emotion"], batch["post"], batch["response"])
                rate, p_model = replacement.schedule(self.step, self.cfg.replace_rate, self.cfg.replace_ramp_steps)
                inputs = replacement.replace(self.mlm, tokens, segments, rate, p_model, aug_seed)
                logits = self.model.response_logits(inputs, segments, training=True)
                mlm_loss = replacement.mlm_loss(self.mlm, tokens, segments, mlm_seed)
            loss = response_loss(logits, batch["target"])
        variables = self.model.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        if self.mlm is not None:
            mlm_vars = self.mlm.trainable_variables
            self.mlm_optimizer.apply_gradients(zip(tape.gradient(mlm_loss, mlm_vars), mlm_vars))
        self.step.assign_add(1)
        return loss, mlm_loss

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


def dataset(arrays, batch_size, seed):
    ds = tf.data.Dataset.from_tensor_slices(arrays)
    ds = ds.shuffle(len(arrays["emotion"]), seed=seed, reshuffle_each_iteration=True).repeat()
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def train(cfg, pairs, dev_arrays=None, vocab=None, quiet=False):
    """Trains on (post chars, response chars, emotion) `pairs` into cfg.model_dir; returns stats."""
    if cfg.model not in models.FAMILIES:
        raise InputError(f"--model={cfg.model}: the CERG trainer handles {' or '.join(models.FAMILIES)}")
    os.makedirs(cfg.model_dir, exist_ok=True)
    resume = models.has_checkpoint(cfg.model_dir)
    if resume and cfg.model == "pe2r":
        saved = io_utils.read_json(os.path.join(cfg.model_dir, "config.json"))
        if saved.get("pe2r_cell", "gru") != cfg.pe2r_cell:
            raise InputError(f"--model_dir={cfg.model_dir} holds a P&E2R model with pe2r_cell="
                             f"{saved.get('pe2r_cell', 'gru')}; this run has --pe2r_cell={cfg.pe2r_cell} "
                             f"(use another --model_dir)")
    vocab = vocab or _vocabulary(cfg, pairs, resume)
    cfg.save(cfg.model_dir)
    tf.random.set_seed(cfg.seed)
    trainer = Trainer(cfg, len(vocab))
    manager = tf.train.CheckpointManager(trainer.checkpoint, cfg.model_dir, max_to_keep=cfg.keep_checkpoints)
    if resume:  # the newest checkpoint that reads whole (a damaged one is named and skipped)
        trainer.checkpoint.restore(checkpoints.newest_intact(manager.checkpoints, f"--model_dir={cfg.model_dir}"))
    arrays = data.to_arrays(vocab, pairs, cfg.cerg_max_chars)
    log = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    log(f"{cfg.model}: {len(pairs)} training pairs, vocabulary {len(vocab)}, "
        f"{sum(int(np.prod(v.shape)) for v in trainer.model.trainable_variables)} parameters, "
        f"starting at step {int(trainer.step.numpy())}")
    start, window_loss, window_n, tick = time.time(), 0.0, 0, time.time()
    stats = {"history": []}
    for batch in dataset(arrays, cfg.batch_size, cfg.seed):
        step = int(trainer.step.numpy())
        if step >= cfg.max_steps:
            break
        loss, mlm_loss = trainer.train_step(batch)
        step += 1
        window_loss, window_n = window_loss + float(loss), window_n + 1
        if step % cfg.log_every == 0 or step == cfg.max_steps:
            rate, _ = replacement.schedule(step, cfg.replace_rate, cfg.replace_ramp_steps)
            mean = window_loss / window_n
            speed = window_n * cfg.batch_size / max(time.time() - tick, 1e-9)
            line = f"step {step} loss {mean:.3f} ppl {np.exp(mean):.1f}"
            if trainer.mlm is not None:
                line += f" mlm {float(mlm_loss):.3f} replace {rate:.4f}"
            log(f"{line} ({speed:.0f} pairs/s)")
            stats["history"].append({"step": step, "loss": round(mean, 4)})
            window_loss, window_n, tick = 0.0, 0, time.time()
        if dev_arrays is not None and (step % cfg.steps_per_eval == 0 or step == cfg.max_steps):
            dev = trainer.dev_loss(dev_arrays, cfg.batch_size)
            log(f"step {step} dev loss {dev:.3f} ppl {np.exp(dev):.1f}")
            stats["dev_loss"] = round(dev, 4)
        if step % cfg.steps_per_checkpoint == 0:
            manager.save(checkpoint_number=step)
    final = int(trainer.step.numpy())
    manager.save(checkpoint_number=final)
    Bm25Index([p for p, _, _ in pairs], [r for _, r, _ in pairs]).save(cfg.model_dir)
    stats.update(steps=final, pairs=len(pairs), vocab=len(vocab), seconds=round(time.time() - start, 1),
                 final_loss=stats["history"][-1]["loss"] if stats["history"] else None)
    io_utils.write_json(os.path.join(cfg.model_dir, STATS_FILE), stats)
    log(f"{cfg.model}: trained to step {final} in {stats['seconds']} s; wrote {cfg.model_dir}")
    return trainer, stats


def train_folder(cfg):
    """--mode=train of CERG / P&E2R (CergFamily.train): the char-level prep folder cfg.data_dir into cfg.model_dir."""
    if cfg.strategy != "default":
        raise InputError(f"--strategy={cfg.strategy}: CERG and P&E2R train on one device for now "
                         f"(tf.distribute runs the ECM family's trainer); drop the flag")
    pairs, dropped = data.load_split(cfg.data_dir, "train", cfg.cerg_max_chars)
    if not pairs:
        raise InputError(f"--data_dir={cfg.data_dir}: no training pair kept (dropped: {dropped})")
    if dropped:
        print(f"{cfg.model}: dropped {sum(dropped.values())} training pairs {dropped}", file=sys.stderr, flush=True)
    resume = models.has_checkpoint(cfg.model_dir)
    os.makedirs(cfg.model_dir, exist_ok=True)
    vocab = _vocabulary(cfg, pairs, resume)
    train(cfg, pairs, _dev_arrays(cfg, vocab), vocab=vocab)
