"""Mixed precision (`--precision`): the Keras dtype policy a model is built under.

`float32` (the default) builds every layer in float32: today's numerics, bit for bit.
`mixed_bfloat16` builds the layers with Keras's mixed_bfloat16 policy: variables stay float32 (so a
checkpoint moves between precisions unchanged) and the matmuls run in bfloat16, which oneDNN
executes about twice as fast as float32 on CPUs with AVX512-BF16 / AMX and which GPUs from Ampere on
run on their tensor cores. The ECM layers keep in float32 what needs the range or the precision
(each says why where it casts): the recurrent state (GRU carry, attention context, internal memory),
the attention softmax, the logits into the split softmax's logsumexps, the type selector and every
loss term. bfloat16 only: float16 would need loss scaling, which fights the global-norm clip.
"""

import contextlib

import keras

PRECISIONS = ("float32", "mixed_bfloat16")
# The dtype of everything kept in float32 whatever the policy (recurrent state, softmaxes, losses).
STATE_DTYPE = "float32"


@contextlib.contextmanager
def policy(precision):
    """Layers constructed inside take the dtype policy of `precision` (one of PRECISIONS); the
    global policy is restored on exit, so nothing built elsewhere changes."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision={precision}: expected one of {', '.join(PRECISIONS)}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
