"""GRUEncoder: the unmasked run equals Keras's masked GRU stack bit for bit, and logs no E0000 line."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from ecm_tf.layers.encoder import GRUEncoder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def masked_reference(encoder, x, lengths):
    """The stack as Keras runs it with a right-padded bool mask (the encoder's earlier code)."""
    mask = np.arange(x.shape[1])[None, :] < lengths[:, None]  # [B, T]
    finals = []
    for rnn in encoder.rnns:
        x, h = rnn(x, mask=mask)
        finals.append(h)
    return np.asarray(x), np.stack([np.asarray(h) for h in finals], axis=1)


@pytest.mark.parametrize("cell", ["paper", "code"])
@pytest.mark.parametrize("input_mode", ["paper", "reversed"])
def test_unmasked_stack_equals_the_masked_keras_gru_bit_for_bit(cell, input_mode):
    keras.utils.set_random_seed(3)
    encoder = GRUEncoder(6, num_layers=2, input_mode=input_mode, cell=cell)
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype("float32")
    lengths = np.array([5, 3, 1, 0], np.int32)  # full, padded, one token, empty (a zero-length row)
    outputs, finals = encoder(x, lengths)
    if input_mode == "reversed":
        x = tf.reverse_sequence(x, lengths, seq_axis=1, batch_axis=0).numpy()
    want_outputs, want_finals = masked_reference(encoder, x, lengths)
    np.testing.assert_array_equal(finals, want_finals)
    np.testing.assert_array_equal(outputs, want_outputs)  # past the length too: the final state repeated
    np.testing.assert_array_equal(finals[3], 0.0)  # an empty row keeps the initial state
    np.testing.assert_array_equal(np.asarray(outputs)[1, 3:], np.repeat(finals[1:2, -1], 2, axis=0))


def test_encoding_logs_no_dt_bool_line():
    """Keras's RNN transposes a bool mask; oneDNN logs "E0000 ... oneDNN supports DT_BOOL" for it."""
    script = ("import numpy as np\n"
              "from ecm_tf.layers.encoder import GRUEncoder\n"
              "enc = GRUEncoder(4, num_layers=2)\n"
              "out, fin = enc(np.ones((2, 3, 5), 'float32'), np.array([3, 1], 'int32'))\n"
              "print('encoded', tuple(fin.shape))\n")
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "encoded (2, 2, 4)" in done.stdout
    assert "DT_BOOL" not in done.stderr, [line for line in done.stderr.splitlines() if "DT_BOOL" in line]
