"""Character replacement augmentation of CERG, with a substitute masked LM trained alongside.

The paper replaces characters at random input positions with characters predicted by a pretrained
BERT. No pretrained Chinese BERT can be downloaded here, so the substitute predictor is a small
character masked LM (a bidirectional CergModel, `substitute_mlm`) trained in the same steps on the
same batches (15 % of the characters masked, BERT-style). Its gradients never reach CERG.

Schedule at training step s, with ramp = replace_ramp_steps and a = min(1, s / ramp):
  rate(s)     = replace_rate * a     share of post/response characters chosen for replacement
  p_model(s)  = a                    chosen position takes the masked LM's sample; otherwise it
                                     keeps the ground truth (scheduled-sampling-like decay)
so early in training (a ~ 0) the input is the ground truth, and after `ramp` steps 5 % of the
characters are the substitute's samples (the substitute is then trained too).
"""

import tensorflow as tf

from ecm_tf.training import loop
from ecm_tf.models.cerg import char_vocab
from ecm_tf.models.cerg.cerg_model import CergModel

MLM_MASK_RATE = 0.15


def schedule(step, replace_rate, ramp_steps):
    """(rate, p_model) at `step` (python numbers or scalar tensors)."""
    if isinstance(step, (int, float)):
        a = 1.0 if ramp_steps <= 0 else min(1.0, step / ramp_steps)
        return replace_rate * a, a
    a = tf.constant(1.0) if ramp_steps <= 0 else tf.minimum(1.0, tf.cast(step, tf.float32) / float(ramp_steps))
    return replace_rate * a, a


def substitute_mlm(vocab_size, hidden, heads, max_chars, num_layers=1, dropout=0.1):
    """The substitute character masked LM (bidirectional attention, same layout as CERG)."""
    return CergModel(vocab_size, hidden, num_layers, heads, max_chars, dropout=dropout, bidirectional=True,
                     name="substitute_mlm")


def _char_positions(tokens):
    return tokens >= char_vocab.FIRST_CHAR_ID  # [B, L]; unknown characters are never replaced


def _masked(tokens, choose):
    return tf.where(choose, char_vocab.MASK_ID, tokens)


def mlm_loss(mlm, tokens, segments, seed):
    """Masked-LM cross-entropy of `mlm` on 15 % of the characters of `tokens` [B, L]."""
    choose = tf.logical_and(_char_positions(tokens),
                            tf.random.stateless_uniform(tf.shape(tokens), seed) < MLM_MASK_RATE)  # [B, L]
    logits = mlm(dict(tokens=_masked(tokens, choose), segments=segments), training=True)  # [B, L, V]
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tokens, logits=logits)  # [B, L]
    return loop.global_masked_mean(ce, tf.cast(choose, tf.float32))  # a replica's share of the global mean


def replace(mlm, tokens, segments, rate, p_model, seed):
    """`tokens` [B, L] with a `rate` share of characters replaced by samples of `mlm`.

    Each character position is chosen with probability `rate`; a chosen position takes the masked
    LM's sample (special tokens excluded) with probability `p_model`, else keeps its character.
    """
    seed_choose, seed_model, seed_sample = tf.unstack(
        tf.random.experimental.stateless_split(seed, num=3))
    shape = tf.shape(tokens)
    chosen = tf.logical_and(_char_positions(tokens), tf.random.stateless_uniform(shape, seed_choose) < rate)
    use_model = tf.logical_and(chosen, tf.random.stateless_uniform(shape, seed_model) < p_model)  # [B, L]
    logits = mlm(dict(tokens=_masked(tokens, chosen), segments=segments), training=False)  # [B, L, V]
    special = tf.range(tf.shape(logits)[-1]) < char_vocab.FIRST_CHAR_ID  # [V]
    logits = tf.where(special[None, None, :], -1e9, logits)
    # A sample of softmax(logits) by the Gumbel-max trick (XLA-compilable).
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed_sample, minval=1e-9, maxval=1.0)
    sample = tf.stop_gradient(tf.argmax(logits - tf.math.log(-tf.math.log(uniform)), axis=-1, output_type=tf.int32))
    return tf.where(use_model, sample, tokens)
