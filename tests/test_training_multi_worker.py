"""Multi-worker training for real: two worker processes on localhost (TF_CONFIG,
MultiWorkerMirroredStrategy) against one process with the same global batch, for the ECM family
and for P&E2R (the shared training loop, training/loop.py); CERG's workers agree with each other."""

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO

FIXTURE = REPO / "tfrecords" / "fixture"
COMMON = ["--mode=train", f"--data_dir={FIXTURE}", "--batch_size=8", "--max_steps=4", "--log_every=1",
          "--steps_per_checkpoint=4", "--steps_per_eval=0", "--nojit_compile"]
ECM = ["--embed_dim=8", "--hidden=8", "--emotion_dim=4", "--shuffle_buffer=10"]
CHARS = ["--cerg_layers=1", "--cerg_hidden=16", "--cerg_heads=2", "--cerg_max_chars=8", "--vocab_size=300",
         "--learning_rate=0.003"]
FAMILIES = {  # model: (flags, progress-line pattern)
    "ecm": (ECM, re.compile(r"^step (\d+)/\d+ loss (\S+) \(nll (\S+) sel (\S+) mem (\S+)\)", re.M)),
    "pe2r": (["--model=pe2r", *CHARS], re.compile(r"^step (\d+) loss (\S+) ppl", re.M)),
    "cerg": (["--model=cerg", "--cerg_dropout=0.1", *CHARS], re.compile(r"^step (\d+) loss (\S+) ppl \S+ mlm (\S+)", re.M)),
}


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _train(model, model_dir, extra=(), env=None):
    return subprocess.Popen([sys.executable, "-m", "ecm_tf.main", *COMMON, *FAMILIES[model][0],
                             f"--model_dir={model_dir}", *extra],
                            cwd=REPO, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _weights(prefix):
    reader = tf.train.load_checkpoint(prefix)
    # Every variable (Keras 3 tracks the weights under optimizer/_trainable_variables), not the input state.
    names = [n for n in reader.get_variable_to_shape_map() if n.endswith("VARIABLE_VALUE")]
    return {n: reader.get_tensor(n) for n in names}


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_two_workers_agree_and_match_one_process(tmp_path, model):
    cluster = {"worker": [f"localhost:{p}" for p in _free_ports(2)]}
    workers = [_train(model, tmp_path / "multi", ["--strategy=multi_worker"],
                      {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
               for i in range(2)]
    single = _train(model, tmp_path / "single")
    logs = [p.communicate(timeout=600)[0] for p in workers + [single]]
    for p, log in zip(workers + [single], logs):
        assert p.returncode == 0, log[-3000:]
    losses = [FAMILIES[model][1].findall(log) for log in logs]
    assert len(losses[2]) == 4
    assert losses[0] == losses[1]  # both workers log the global batch's losses
    chief = _weights(str(tmp_path / "multi" / "ckpt-4"))
    other = _weights(str(tmp_path / "multi" / "workers" / "worker_1" / "ckpt-4"))
    alone = _weights(str(tmp_path / "single" / "ckpt-4"))
    assert chief.keys() == other.keys() == alone.keys() and len(chief) > 10
    for name in chief:
        np.testing.assert_array_equal(chief[name], other[name], err_msg=name)  # synchronised replicas
    if model == "cerg":
        # CERG draws its character replacement, masked-LM positions and dropout per replica, from
        # the replica's half batch: its updates are not a single process's. The losses move alike.
        assert all(np.isfinite(float(v)) for row in losses[0] for v in row[1:])
    else:
        assert losses[0] == losses[2]  # the same global batches, the same updates (3-4 decimals)
        for name in chief:
            np.testing.assert_allclose(chief[name], alone[name], rtol=1e-4, atol=1e-6, err_msg=name)
    # Only the chief writes the model folder; the other worker keeps its checkpoints apart.
    assert (tmp_path / "multi" / "config.json").exists()
    assert not (tmp_path / "multi" / "workers" / "worker_1" / "config.json").exists()
    if model != "ecm":
        for name in ("char_vocab.txt", "retrieval_index.json", "train_stats.json"):
            assert (tmp_path / "multi" / name).exists(), name
            assert not (tmp_path / "multi" / "workers" / "worker_1" / name).exists(), name
