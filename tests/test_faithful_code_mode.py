"""Code mode as the original release does it; paper mode in the paper's form.

Hand computations in numpy of: the encoder reading the post left-padded then reversed with TF 0.12
GRUCell semantics (seq2seq_model.py:246-248, rnn_cell.py:181-201); the gate bias initialisation;
the decode-time padding to the bucket size; older model folders keeping their behaviour.
"""

import json

import numpy as np
import pytest

from ecm_tf import flags as ecm_flags
from ecm_tf.data import vocab as vocab_lib
from ecm_tf.models.ecm.generator import ResponseGenerator
from ecm_tf.errors import InputError
from ecm_tf.layers.encoder import GRUEncoder
from ecm_tf.layers.gru_cell import SideInputGRUCell
from ecm_tf.models.ecm import checkpoint_io
from ecm_tf.models.ecm import factory
from ecm_tf.models import registry
from ecm_tf.models.ecm.settings import EcmSettings
from test_decoding_decode import FIXTURE, make_model_dir
from test_model_ecm import CODE, MASK, VP, VR, tiny_cfg


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_tf012_gru(xs, kernel, recurrent, bias):
    """TF 0.12 GRUCell over xs [B, T, E] (Keras reset_after=False weights, gate order z, r, h):
    r, u = sigmoid([x; h] W + b); c = tanh([x; r * h] W_c + b_c); h' = u * h + (1 - u) * c."""
    n = recurrent.shape[0]
    h = np.zeros([xs.shape[0], n], np.float32)
    outs = []
    for t in range(xs.shape[1]):
        x = xs[:, t]
        z = sigmoid(x @ kernel[:, :n] + h @ recurrent[:, :n] + bias[:n])
        r = sigmoid(x @ kernel[:, n:2 * n] + h @ recurrent[:, n:2 * n] + bias[n:2 * n])
        c = np.tanh(x @ kernel[:, 2 * n:] + (r * h) @ recurrent[:, 2 * n:] + bias[2 * n:])  # reset before the matmul
        h = z * h + (1 - z) * c
        outs.append(h)
    return np.stack(outs, 1), h


def test_code_encoder_reads_left_padded_reversed_post_over_pad():
    rng = np.random.default_rng(0)
    enc = GRUEncoder(4, num_layers=2, input_mode="code", cell="code")
    emb = rng.normal(size=[2, 5, 3]).astype(np.float32)  # rows: [x1 x2 x3 PAD PAD], [x1 .. x5]
    lengths = np.array([3, 5], np.int32)
    pad = rng.normal(size=[3]).astype(np.float32)
    emb[0, 3:] = pad  # PAD has an embedding of its own (a trainable row), not zeros
    enc(emb, lengths)
    for rnn in enc.rnns:  # TF 0.12: gate biases start at 1.0, the candidate's at 0
        np.testing.assert_array_equal(rnn.cell.bias.numpy(), [1.0] * 8 + [0.0] * 4)
        rnn.cell.bias.assign(rng.normal(size=[12]).astype(np.float32))
    outputs, finals = enc(emb, lengths)
    x = emb[:, ::-1]  # the whole padded row reversed: [PAD PAD x3 x2 x1]
    for i, rnn in enumerate(enc.rnns):
        x, h = np_tf012_gru(x, rnn.cell.kernel.numpy(), rnn.cell.recurrent_kernel.numpy(), rnn.cell.bias.numpy())
        np.testing.assert_allclose(finals[:, i], h, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outputs, x, rtol=1e-4, atol=1e-5)
    # The states at the PAD positions are real GRU states (attention sees them), and the real tokens
    # are at the end: the positions mask of the decoder's attention.
    assert np.abs(outputs.numpy()[0, :2]).min() > 0
    np.testing.assert_array_equal(enc.positions_mask(5, lengths), [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])


def test_paper_encoder_ignores_padding_code_encoder_does_not():
    rng = np.random.default_rng(1)
    short, wide = rng.normal(size=[1, 4, 3]).astype(np.float32), None
    wide = np.concatenate([short, rng.normal(size=[1, 3, 3]).astype(np.float32)], 1)  # 3 more PAD positions
    lengths = np.array([4], np.int32)
    for mode, same in (("paper", True), ("reversed", True), ("code", False)):
        enc = GRUEncoder(4, 1, input_mode=mode, cell="code" if mode == "code" else "paper")
        a, b = enc(short, lengths)[1].numpy(), enc(wide, lengths)[1].numpy()
        assert np.allclose(a, b, atol=1e-6) == same, mode


def test_decoder_gru_gate_bias_starts_at_one_in_code_mode():
    cell = SideInputGRUCell(3, gate_bias=1.0)
    cell(np.zeros([1, 2], np.float32), np.zeros([1, 3], np.float32))
    np.testing.assert_array_equal(cell.bias.numpy(), [1.0] * 6 + [0.0] * 3)
    model = factory.create(tiny_cfg(**CODE), VP, VR, MASK)
    paths = {v.path: v for v in model.weights}
    assert any("query/bias" in p for p in paths) and any("memory_read_gate/bias" in p for p in paths)
    assert any("output_projection" in p for p in paths)
    paper = factory.create(tiny_cfg(), VP, VR, MASK)
    paper_paths = " ".join(v.path for v in paper.weights)
    # Paper mode: Eq. 6-7 gates without bias, Eq. 4 softmax(W_o s_t) without W_p, attention query without bias.
    assert "memory_read_gate/bias" not in paper_paths and "output_projection" not in paper_paths
    assert "query/bias" not in paper_paths


def test_gate_bias_init_needs_biased_gates():
    with pytest.raises(InputError, match=r"--gate_bias_init=1.0: .*add --imemory_gate_bias"):
        factory.create(tiny_cfg(gate_bias_init=1.0), VP, VR, MASK)


def test_decode_pads_posts_to_the_bucket_size_in_code_mode(tmp_path):
    cfg = make_model_dir(tmp_path / "m", **CODE)
    model, cfg = checkpoint_io.load(cfg, str(tmp_path / "m"))[:2]
    post_vocab, response_vocab = vocab_lib.load_pair(str(FIXTURE))
    generator = ResponseGenerator(model, cfg.replace(decoder="greedy"), post_vocab, response_vocab)
    post = post_vocab.ids(post_vocab.word_list[4:7])  # 3 tokens: bucket 12, so 9 PAD positions
    got = generator.decode_ids([post], [5], generator.max_len(3))[0]
    padded = np.array([post + [0] * 9], np.int32)
    ids, scores, _ = generator._search(padded, np.array([3], np.int32), np.array([5], np.int32), np.int32(12))
    assert got[0][1] == pytest.approx(float(scores.numpy()[0, 0]), abs=1e-5)
    unpadded = generator._search(np.array([post], np.int32), np.array([3], np.int32), np.array([5], np.int32),
                               np.int32(12))[1]
    assert float(unpadded.numpy()[0, 0]) != pytest.approx(got[0][1], abs=1e-5)  # the PAD steps matter here


def test_older_model_folders_keep_their_behaviour(tmp_path):
    """A config.json written before the faithfulness settings existed describes the model as it was then trained."""
    cfg = make_model_dir(tmp_path / "m", imemory_gate_bias=True, output_features="projection",
                         bucket_lengths="inclusive")
    path = tmp_path / "m" / "config.json"
    saved = json.loads(path.read_text())
    for name in EcmSettings.legacy_values():
        saved.pop(name, None)
    path.write_text(json.dumps(saved))
    loaded = registry.model_settings(ecm_flags.defaults(), str(tmp_path / "m"))
    assert loaded.imemory_gate_bias is True and loaded.output_features == "projection"
    assert loaded.bucket_lengths == "inclusive" and loaded.loss_average == "token"
    model, _ = checkpoint_io.load(cfg, str(tmp_path / "m"))[:2]  # the checkpoint restores completely
    assert any("output_projection" in v.path for v in model.weights)
