"""ECM decoder layers against hand computations in numpy (Eq. 5-10, attention, GRU)."""

import os
import re

import keras
import numpy as np
import pytest

from ecm_tf.layers.attention import BahdanauAttention
from ecm_tf.layers.ecm_cell import ECMCell
from ecm_tf.layers.gru_cell import SideInputGRUCell
from ecm_tf.layers.internal_memory import InternalMemory

RNG = np.random.default_rng(0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rand(*shape):
    return RNG.normal(0, 0.5, size=shape).astype(np.float32)


def np_gru(x, h, side, kernel, recurrent, bias, side_kernel=None):
    n = h.shape[-1]
    xw = x @ kernel + bias
    if side is not None:
        xw = xw + side @ side_kernel
    r = sigmoid(xw[:, :n] + h @ recurrent[:, :n])
    z = sigmoid(xw[:, n:2 * n] + h @ recurrent[:, n:2 * n])
    cand = np.tanh(xw[:, 2 * n:] + (r * h) @ recurrent[:, 2 * n:])
    return z * h + (1 - z) * cand


def np_attention(query, values, wk, wq, v, mask, mask_pad, bq=0.0):
    scores = (np.tanh(values @ wk + (query @ wq + bq)[:, None, :]) @ v)[..., 0]  # [B, T]
    if mask_pad:
        scores = np.where(mask > 0, scores, -1e9)
    a = np.exp(scores - scores.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    return np.einsum("bt,btd->bd", a, values), a


def set_random(layer):
    for w in layer.weights:
        w.assign(rand(*w.shape))


def test_gru_cell_matches_hand_computation():
    cell = SideInputGRUCell(4, side_input=True)
    x, h, side = rand(2, 3), rand(2, 4), rand(2, 5)
    cell(x, h, side)
    set_random(cell)
    want = np_gru(x, h, side, cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy(),
                  cell.emotion_memory_kernel.numpy())
    np.testing.assert_allclose(cell(x, h, side).numpy(), want, rtol=1e-5, atol=1e-5)


def test_side_input_equals_concatenated_input():
    cell = SideInputGRUCell(4, side_input=True)
    plain = SideInputGRUCell(4)
    x, h, side = rand(2, 3), rand(2, 4), rand(2, 5)
    cell(x, h, side)
    plain(np.concatenate([x, side], -1), h)
    set_random(cell)
    plain.kernel.assign(np.concatenate([cell.kernel.numpy(), cell.emotion_memory_kernel.numpy()], 0))
    plain.recurrent_kernel.assign(cell.recurrent_kernel)
    plain.bias.assign(cell.bias)
    np.testing.assert_allclose(cell(x, h, side), plain(np.concatenate([x, side], -1), h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask_pad", [True, False])
def test_attention_matches_hand_computation(mask_pad):
    att = BahdanauAttention(3, mask_pad=mask_pad)
    values, query = rand(2, 4, 5), rand(2, 6)
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], np.float32)
    keys = att.precompute(values)
    att(query, keys, values, mask)
    set_random(att)
    context, weights = att(query, att.precompute(values), values, mask)
    want_c, want_a = np_attention(query, values, att.key_dense.kernel.numpy(), att.query_dense.kernel.numpy(),
                                  att.score_dense.kernel.numpy(), mask, mask_pad)
    np.testing.assert_allclose(context, want_c, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(weights, want_a, rtol=1e-5, atol=1e-6)
    pad_weight = weights.numpy()[mask == 0]
    assert (pad_weight == 0).all() if mask_pad else (pad_weight > 0).all()


def test_internal_memory_gates_eq_6_to_9():
    assert InternalMemory(6, 4).read_gate.use_bias is False  # paper Eq. 6-7: no bias
    mem = InternalMemory(6, 4, gate_bias_init=1.0, use_bias=True)
    emotion = np.array([2, 5])
    m = mem.initial(emotion)
    np.testing.assert_allclose(m, mem.memory.numpy()[[2, 5]])
    gate_in, state = rand(2, 7), rand(2, 4)
    mem.read(gate_in, m)
    mem.write(state, m)
    np.testing.assert_allclose(mem.read_gate.bias.numpy(), 1.0)  # gate_bias_init
    set_random(mem)
    m = mem.initial(emotion).numpy()
    m_r, g_r = mem.read(gate_in, m)
    want_g_r = sigmoid(gate_in @ mem.read_gate.kernel.numpy() + mem.read_gate.bias.numpy())  # Eq. 6
    np.testing.assert_allclose(g_r, want_g_r, rtol=1e-5)
    np.testing.assert_allclose(m_r, want_g_r * m, rtol=1e-5)  # Eq. 8
    g_w = sigmoid(state @ mem.write_gate.kernel.numpy() + mem.write_gate.bias.numpy())  # Eq. 7
    np.testing.assert_allclose(mem.write(state, m), g_w * m, rtol=1e-5)  # Eq. 9


def make_cell(code, e_dim=5):
    kw = dict(read_gate_inputs="code", write_gate_inputs="code", imemory_layers="first",
              attention_mask_pad=False, gru_gate_bias=1.0, attention_query_bias=True, imemory_gate_bias=True,
              gate_bias_init=1.0, output_features="projection") if code else {}
    cell = ECMCell(units=4, num_layers=2, num_emotions=6, emotion_dim=3, **kw)
    cell.build((None, e_dim))
    return cell


def split(cell, state):
    """The cell's state [B, S] -> (s_1, s_2, c, M) as numpy."""
    state = np.asarray(state)
    return state[:, :4], state[:, 4:8], state[:, 8:12], state[:, 12:]


@pytest.mark.parametrize("code", [False, True])
def test_decoder_step_matches_hand_computation(code):
    """One full step: input feeding, read gate, M_r, 2-layer GRU with v_e, write gate, attention."""
    cell = make_cell(code)
    assert cell.state_size == cell.output_size == 2 * 4 + 4 + 4  # [s_1; s_2; c; M]
    set_random(cell)
    b, t = 2, 3
    values = rand(b, t, 4)
    mask = np.array([[1, 1, 0], [1, 1, 1]], np.float32)
    emotion = np.array([1, 4])
    emo_vec = rand(b, 3)
    cell.bind(values, mask, emotion=emotion, emotion_vector=emo_vec)
    final = rand(b, 2, 4)
    state = cell.initial_state(final)
    x = rand(b, 5)
    out, (new,) = cell(x, [state])
    np.testing.assert_array_equal(out, new)  # the output is the new state
    top, context, imemory = cell.readout(new)
    features = cell.output_features(top, context)

    att = cell.attention
    wk, wq, v = (att.key_dense.kernel.numpy(), att.query_dense.kernel.numpy(), att.score_dense.kernel.numpy())
    bq = att.query_dense.bias.numpy() if code else 0.0  # the original's linear(query, ..., True)
    assert (att.query_dense.bias is not None) == code
    c0, _ = np_attention(final.reshape(b, 8), values, wk, wq, v, mask, not code, bq)
    np.testing.assert_allclose(split(cell, state)[2], c0, rtol=1e-4, atol=1e-5)
    m0 = cell.imemory.memory.numpy()[emotion]
    np.testing.assert_array_equal(split(cell, state)[3], m0)
    s1, s2 = final[:, 0], final[:, 1]
    if code:
        gate_in = np.concatenate([x, c0, emo_vec, s1, s2], -1)
    else:
        gate_in = np.concatenate([x, s2, c0], -1)  # Eq. 6: [e(y_t-1); s_t-1; c_t]
    rg = cell.imemory.read_gate
    bias = (lambda d: d.bias.numpy()) if code else (lambda d: 0.0)  # Eq. 6-7 have no bias; the code's gates do
    assert (rg.bias is not None) == code
    m_r = sigmoid(gate_in @ rg.kernel.numpy() + bias(rg)) * m0  # Eq. 6, 8
    g0, g1 = cell.grus
    inp = np.concatenate([x, c0], -1)
    h1 = np_gru(inp, s1, np.concatenate([emo_vec, m_r], -1), g0.kernel.numpy(), g0.recurrent_kernel.numpy(),
                g0.bias.numpy(), g0.emotion_memory_kernel.numpy())  # Eq. 5, 10
    if code:
        h2 = np_gru(h1, s2, None, g1.kernel.numpy(), g1.recurrent_kernel.numpy(), g1.bias.numpy())
    else:
        h2 = np_gru(h1, s2, m_r, g1.kernel.numpy(), g1.recurrent_kernel.numpy(), g1.bias.numpy(),
                    g1.emotion_memory_kernel.numpy())
    got_h1, got_h2, got_c1, got_m1 = split(cell, new)
    np.testing.assert_allclose(got_h1, h1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_h2, h2, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(top, got_h2)
    wg = cell.imemory.write_gate
    w_in = np.concatenate([h1, h2], -1) if code else h2  # Eq. 7
    np.testing.assert_allclose(got_m1, sigmoid(w_in @ wg.kernel.numpy() + bias(wg)) * m0, rtol=1e-4, atol=1e-6)  # Eq. 9
    np.testing.assert_array_equal(imemory, got_m1)
    c1, _ = np_attention(np.concatenate([h1, h2], -1), values, wk, wq, v, mask, not code, bq)
    np.testing.assert_allclose(got_c1, c1, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(context, got_c1)
    if code:  # the original's AttnOutputProjection W_p [s_t; c'] + b
        op = cell.output_projection
        np.testing.assert_allclose(features, np.concatenate([h2, c1], -1) @ op.kernel.numpy() + op.bias.numpy(),
                                   rtol=1e-4, atol=1e-5)
    else:  # Eq. 4: softmax(W_o s_t), the features are s_t itself
        assert not hasattr(cell, "output_projection")
        np.testing.assert_array_equal(features, got_h2)


def test_every_weight_is_built_before_any_call():
    for code in (False, True):
        cell = make_cell(code)
        assert cell.built and all(layer.built for layer in cell._flatten_layers())
        names = sorted(w.path.split("/", 1)[1] for w in cell.weights)
        # paper: attention 3, M, 2 gate kernels, 2 GRUs x (kernel, recurrent, bias, side kernel) = 14;
        # code: + the query bias and 2 gate biases, layer 1 without a side input (-1), W_p and b_p = 18
        assert len(names) == (18 if code else 14), names


def test_internal_memory_decays_monotonically():
    cell = make_cell(False)
    cell.bind(rand(2, 3, 4), emotion=np.array([0, 3]), emotion_vector=rand(2, 3))
    state = cell.initial_state(rand(2, 2, 4))
    norms = [np.abs(split(cell, state)[3])]
    for _ in range(6):
        state, _ = cell(rand(2, 5), [state])
        norms.append(np.abs(split(cell, state)[3]))
    diffs = np.diff(np.stack(norms), axis=0)
    assert (diffs < 0).all()


def test_plain_keras_rnn_runs_the_cell_step_by_step():
    """keras.layers.RNN(cell) over a sequence equals the cell called step by step, from its own
    get_initial_state (zero GRU states, their context, M of the bound emotion)."""
    cell = make_cell(False)
    set_random(cell)
    values, emotion, emo_vec, x = rand(2, 3, 4), np.array([2, 5]), rand(2, 3), rand(2, 4, 5)
    cell.bind(values=values, emotion=emotion, emotion_vector=emo_vec)
    outputs = keras.layers.RNN(cell, return_sequences=True)(x)  # [B, T, S]
    state = cell.get_initial_state(2)
    np.testing.assert_array_equal(split(cell, state)[0], 0.0)
    for t in range(4):
        state, _ = cell(x[:, t], [state])
        np.testing.assert_allclose(outputs[:, t], state, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("layer", [
    SideInputGRUCell(3, side_input=True, gate_bias=1.0), BahdanauAttention(5, mask_pad=False, query_bias=True),
    InternalMemory(6, 4, 1.0, use_bias=True),
    make_cell(True)])
def test_get_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    if isinstance(layer, ECMCell):  # the same weights once built
        clone.build((None, 5))
        assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape) for w in layer.weights]


def test_cell_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        ECMCell(4, 2)


def test_the_readme_block_runs_the_cell_in_plain_keras():
    """The README's three lines, as written, with inputs of the shapes its names stand for."""
    readme = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md"),
                  encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    block = [b for b in blocks if "ECMCell(" in b]
    assert len(block) == 1, "the README shows ECMCell in one python block"
    b, tp, t, e = 2, 3, 4, 7
    names = dict(keras=keras, ECMCell=ECMCell, encoder_outputs=rand(b, tp, 256),
                 post_mask=np.array([[1, 1, 0], [1, 1, 1]], np.float32), emotion=np.array([1, 4]),
                 emotion_vectors=rand(b, 100), response_embeddings=rand(b, t, e))
    exec(block[0], names)  # noqa: S102  (the README's own code)
    cell, outputs = names["cell"], names["outputs"]
    assert tuple(outputs.shape) == (b, t, cell.state_size) == (b, t, 2 * 256 + 256 + 256)
    state = cell.get_initial_state(b)
    for step in range(t):  # the RNN's outputs are the cell's states, step by step
        state, _ = cell(names["response_embeddings"][:, step], [state])
    np.testing.assert_allclose(outputs[:, -1], state, rtol=1e-5, atol=1e-6)
