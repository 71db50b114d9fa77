"""ECM external memory output (Sec. 3.4): generic and emotion vocabularies mixed by a type selector."""

import keras
import tensorflow as tf
from keras import ops

from ecm_tf.layers.fused_logsumexp import part_logsumexp
from ecm_tf.layers.precision import STATE_DTYPE

_NEG = -1e9


class ExternalMemoryOutput(keras.layers.Layer):
    """Log-probabilities over the response vocabulary, optionally split by the external memory.

    One shared logit vector l = W_o o_t + b. With the external memory (Eq. 11-14), the emotion
    words of each example's emotion (its mask row) and all other words (generic) get separate
    softmaxes, mixed by the type selector alpha:

        alpha = sigmoid(v_u^T s_t)                                        (Eq. 11)
        P_g(w) = softmax over generic words, P_e(w) = softmax over emotion words  (Eq. 12, 13)
        P(w) = (1 - alpha) P_g(w) + alpha P_e(w)                          (Eq. 14)

    computed in one pass over l with masks: log P(w) = l_w - logsumexp(l over w's part)
    + log alpha (emotion word) or log(1 - alpha) (generic word). An empty emotion row puts all
    mass on the generic part. Without the external memory: log P = log_softmax(l).

    With `targets` (training), only the targets' log-probabilities are returned: the target
    logit is computed from its own weight column, and one logsumexp runs over the target's part
    of the vocabulary only. The other part does not enter log P(target), so this is the same
    value with half the exponentials (measured: the output layer's forward and backward 20%
    faster at the paper size; bench/README.md).

    Args:
      vocab_size: int, response vocabulary size V.
      use_ememory: bool, split vocabulary with a type selector.
      selector_bias: bool, the selector has a bias (the original code's Linear(output, 1));
        the paper's v_u^T s_t has none.
    """

    def __init__(self, vocab_size, use_ememory=True, selector_bias=False, **kwargs):
        # Under a mixed policy only the logits matmul runs in the compute dtype: the layer casts its
        # inputs itself (no autocast), the logits go to float32 before any softmax or logsumexp
        # (their exponentials and the 1e-9 masks need float32's precision), and the type selector is
        # a float32 layer (alpha weighs every probability of the step).
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.use_ememory = use_ememory
        self.selector_bias = selector_bias
        self.logits_dense = keras.layers.Dense(vocab_size, name="logits")
        if use_ememory:
            self.selector = keras.layers.Dense(1, use_bias=selector_bias, dtype=STATE_DTYPE, name="emotion_selector")

    def build(self, features_shape, selector_features_shape=None, emotion_mask_shape=None, targets_shape=None):
        """W_o, b from features [..., H]; v_u from selector_features [..., S] (with the external memory)."""
        self.logits_dense.build(features_shape)
        if self.use_ememory and selector_features_shape is not None:
            self.selector.build(selector_features_shape)

    def call(self, features, selector_features=None, emotion_mask=None, targets=None):
        """features [..., H]; selector_features [..., S]; emotion_mask [..., V] (1 = emotion word),
        broadcastable against the logits (e.g. [B, 1, V] for features [B, T, H]).

        Returns (log_probs, a): log_probs [..., V], or [...] (the targets' log-probabilities) when
        `targets` [...] int is given; a [...] the selector logits, alpha = sigmoid(a)
        (None without the external memory).
        """
        features = ops.cast(features, self.compute_dtype)  # [..., H]
        if targets is not None and self.compute_dtype != STATE_DTYPE:
            return self._fused_target_log_probs(features, selector_features, emotion_mask, targets)
        logits = ops.cast(self.logits_dense(features), STATE_DTYPE)  # [..., V]
        if targets is not None:
            return self._target_log_probs(features, selector_features, emotion_mask, targets, logits)
        if not self.use_ememory:
            return ops.log_softmax(logits, axis=-1), None
        a = self._selector_logit(selector_features)  # [...]
        is_emo = ops.cast(emotion_mask, "bool")  # [..., V]
        lse_e = ops.logsumexp(ops.where(is_emo, logits, _NEG), axis=-1)  # [...]
        lse_g = ops.logsumexp(ops.where(is_emo, _NEG, logits), axis=-1)  # [...]
        return self._mixed(logits, is_emo, lse_e, lse_g, a, ops.any(is_emo, axis=-1)), a  # [..., V]

    def decode_parts(self, emotion_mask, emotion):
        """What `decode_log_probs` needs of the external memory, computed once per search.

        emotion_mask: bool [E, V] (row e = emotion e's words); emotion: int [N], each row's emotion.
        Returns a dict: is_emo bool [N, V], has_emo / has_generic bool [N] (the row has words of
        that part), columns float [V, 2E] (the E masks, then their complements) and pick_emo /
        pick_generic int [N, 2] (each row's two columns).
        """
        emotion = tf.cast(emotion, tf.int32)
        is_emo = tf.gather(emotion_mask, emotion)  # [N, V]
        num_emotions = tf.shape(emotion_mask)[0]
        masks = tf.cast(tf.transpose(emotion_mask), tf.float32)  # [V, E]
        rows = tf.range(tf.shape(emotion)[0])
        return {"is_emo": is_emo, "has_emo": tf.reduce_any(is_emo, -1),
                "has_generic": tf.reduce_any(tf.logical_not(is_emo), -1),
                "columns": tf.concat([masks, 1.0 - masks], 1),
                "pick_emo": tf.stack([rows, emotion], 1), "pick_generic": tf.stack([rows, emotion + num_emotions], 1)}

    def decode_log_probs(self, features, selector_features, parts):
        """log P over the vocabulary for one decoding step: `call`'s values to float rounding.

        features [N, H]; selector_features [N, S]; parts: `decode_parts` of the search. The two
        logsumexps share one pass: exp(l - max l) over the row, summed over each part by one matmul
        with the [V, 2E] part columns. A part whose sum falls below 1e-25 (its best logit ~57 below
        the row's best: float32 exp would flush some of its terms to 0) sends the step to the two
        masked logsumexps that `call` computes. Returns log_probs [N, V].
        """
        logits = ops.cast(self.logits_dense(ops.cast(features, self.compute_dtype)), STATE_DTYPE)  # [N, V]
        if not self.use_ememory:
            return tf.nn.log_softmax(logits, axis=-1)
        a = self._selector_logit(selector_features)  # [N]
        is_emo = parts["is_emo"]
        top = tf.reduce_max(logits, axis=-1, keepdims=True)  # [N, 1]
        sums = tf.matmul(tf.exp(logits - top), parts["columns"])  # [N, 2E]
        sum_e, sum_g = tf.gather_nd(sums, parts["pick_emo"]), tf.gather_nd(sums, parts["pick_generic"])  # [N]
        tiny = tf.logical_or(tf.logical_and(parts["has_emo"], sum_e < 1e-25),
                             tf.logical_and(parts["has_generic"], sum_g < 1e-25))

        def masked():  # `call`'s two logsumexps, each shifted by its own part's max
            return (tf.reduce_logsumexp(tf.where(is_emo, logits, _NEG), axis=-1),
                    tf.reduce_logsumexp(tf.where(is_emo, _NEG, logits), axis=-1))

        lse_e, lse_g = tf.cond(tf.reduce_any(tiny), masked,
                               lambda: (tf.math.log(sum_e) + top[:, 0], tf.math.log(sum_g) + top[:, 0]))
        return self._mixed(logits, is_emo, lse_e, lse_g, a, parts["has_emo"])

    def _target_log_probs(self, features, selector_features, emotion_mask, targets, logits):
        """log P(targets) [...] and the selector logits [...] (None without the external memory)."""
        targets = ops.cast(targets, "int32")
        target_logit = self._target_logit(features, targets)  # [...]
        if not self.use_ememory:
            return target_logit - ops.logsumexp(logits, axis=-1), None
        a = self._selector_logit(selector_features)  # [...]
        is_emo = ops.cast(emotion_mask, "bool")  # [..., V]
        target_is_emo = ops.squeeze(ops.take_along_axis(  # [...]
            ops.broadcast_to(is_emo, ops.shape(logits)), ops.expand_dims(targets, -1), axis=-1), -1)
        in_part = ops.equal(is_emo, ops.expand_dims(target_is_emo, -1))  # [..., V] the target's part
        lse = ops.logsumexp(ops.where(in_part, logits, _NEG), axis=-1)  # [...]
        return self._target_mixed(target_logit, lse, a, target_is_emo, ops.any(is_emo, axis=-1)), a

    def _fused_target_log_probs(self, features, selector_features, emotion_mask, targets):
        """`_target_log_probs` under a mixed policy, for features [B, T, H] and emotion_mask [B, 1, V]:
        the logits matmul in the compute dtype, then one fused logsumexp pass each way
        (layers/fused_logsumexp.py) instead of the separate elementwise passes over [B, T, V]."""
        targets = ops.cast(targets, "int32")  # [B, T]
        dense, cdt = self.logits_dense, self.compute_dtype
        logits = ops.matmul(features, ops.cast(dense.kernel, cdt))  # [B, T, V], the bias added in the fused pass
        target_logit = self._target_logit(features, targets)  # [B, T], float32 as the fused pass
        if not self.use_ememory:
            return target_logit - part_logsumexp(logits, dense.bias), None
        a = self._selector_logit(selector_features)  # [B, T]
        is_emo = ops.cast(emotion_mask, "bool")  # [B, 1, V]
        target_is_emo = ops.take_along_axis(is_emo[:, 0, :], targets, axis=-1)  # [B, T]
        lse = part_logsumexp(logits, dense.bias, is_emo, target_is_emo)  # [B, T]
        return self._target_mixed(target_logit, lse, a, target_is_emo, ops.any(is_emo, axis=-1)), a

    def _target_logit(self, features, targets):
        """The targets' logits [...] from the operands of the logits matmul (features [..., H] and kernel
        in the compute dtype), summed in float32 as the matmul accumulates, plus the float32 bias: the
        target's entry of the logits up to its rounding (none in float32, where every cast is a no-op)."""
        dense = self.logits_dense
        columns = ops.take(ops.transpose(ops.cast(dense.kernel, self.compute_dtype)), targets, axis=0)  # [..., H]
        products = ops.cast(features, STATE_DTYPE) * ops.cast(columns, STATE_DTYPE)  # [..., H]
        return ops.sum(products, axis=-1) + ops.cast(ops.take(dense.bias, targets), STATE_DTYPE)

    def _selector_logit(self, selector_features):
        """a [...] with alpha = sigmoid(a) (Eq. 11), from selector_features [..., S]."""
        return ops.squeeze(self.selector(selector_features), -1)

    def _mixed(self, logits, is_emo, lse_e, lse_g, a, has_emo):
        """log P [..., V] over the whole vocabulary (Eq. 12-14): each word's logit less the logsumexp
        of its part (lse_e / lse_g [...]) plus that part's log weight."""
        log_alpha, log_generic = self._log_mix(a, has_emo)  # [...] each
        return logits - ops.where(is_emo, (lse_e - log_alpha)[..., None], (lse_g - log_generic)[..., None])

    def _target_mixed(self, target_logit, lse, a, target_is_emo, has_emo):
        """log P(target) [...] (Eq. 12-14) from its logit and the logsumexp of its part (lse [...])."""
        log_alpha, log_generic = self._log_mix(a, has_emo)
        return target_logit - lse + ops.where(target_is_emo, log_alpha, log_generic)

    @staticmethod
    def _log_mix(a, has_emo):
        """Log weights of the two parts (Eq. 14): log alpha and log(1 - alpha); an example
        without emotion words puts all mass on the generic part (log 1 = 0)."""
        return ops.log_sigmoid(a), ops.where(has_emo, ops.log_sigmoid(-a), 0.0)

    def get_config(self):
        config = super().get_config()
        config.update(vocab_size=self.vocab_size, use_ememory=self.use_ememory,
                      selector_bias=self.selector_bias)
        return config
