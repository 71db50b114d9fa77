"""Every export kind (ECM, P&E2R, the neural classifier) loaded by TensorFlow's C API
(TF_LoadSessionFromSavedModel, the C++ SavedModelBundle loader of TF Serving) in a C program compiled
here against the wheel's headers and libtensorflow_cc.so.2: no Python in that process. Its
serving_default outputs equal --mode=decode's texts and scores (within 1e-5), and an export of a
tf.Module that tracks Keras layers fails there with "Could not find variable"."""

import json
import os
import pathlib
import shutil
import subprocess

import numpy as np
import pytest
import tensorflow as tf

from conftest import REPO, run_cli
from ecm_tf import flags as ecm_flags
from ecm_tf.models import registry
from test_decoding_decode import make_model_dir

SOURCE = REPO / "tests" / "c_loader" / "load_saved_model.c"
TF_DIR = pathlib.Path(tf.__file__).parent
POSTS = ["你 没有 任何 意义", "今天 天气 真 好 啊", "我 1998 年 就 在 这里 了"]
EMOTIONS = ["Like", "Sad", "Happy"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def loader(tmp_path_factory):
    """Path of the compiled C loader (skips where gcc or the wheel's C API is absent)."""
    gcc = shutil.which("gcc")
    libs = [TF_DIR / "libtensorflow_cc.so.2", TF_DIR / "libtensorflow_framework.so.2"]
    header = TF_DIR / "include" / "tensorflow" / "c" / "c_api.h"
    if not gcc or not header.exists() or not all(p.exists() for p in libs):
        pytest.skip(f"needs gcc and the wheel's C API ({header}, {libs[0].name}, {libs[1].name})")
    binary = tmp_path_factory.mktemp("c_loader") / "load_saved_model"
    proc = subprocess.run([gcc, "-O1", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(SOURCE),
                           f"-I{TF_DIR / 'include'}", f"-L{TF_DIR}", "-l:libtensorflow_cc.so.2",
                           "-l:libtensorflow_framework.so.2", f"-Wl,-rpath,{TF_DIR}"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return binary


def signature(export_dir, name="serving_default"):
    """({input key: (tensor name, dtype name)}, {output key: tensor name}) from saved_model.pb."""
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    model.ParseFromString((pathlib.Path(export_dir) / "saved_model.pb").read_bytes())
    sig = model.meta_graphs[0].signature_def[name]
    return ({k: (v.name, tf.dtypes.as_dtype(v.dtype).name) for k, v in sig.inputs.items()},
            {k: v.name for k, v in sig.outputs.items()})


def run_c(loader, export_dir, inputs, folder):
    """(returncode, {output key: numpy array}, stderr) of the C loader on `inputs` (key -> list)."""
    names, outputs = signature(export_dir)
    args = [str(loader), str(export_dir)]
    for key, values in inputs.items():
        tensor, dtype = names[key]
        path = pathlib.Path(folder) / f"{key}.txt"
        if dtype == "string":
            path.write_text("".join(v + "\n" for v in values), encoding="utf-8")
        else:
            rows = np.asarray(values, dtype=np.int32)
            path.write_text(f"{rows.shape[0]} {rows.shape[1]}\n" + " ".join(map(str, rows.ravel())) + "\n")
        args.append(f"in:{tensor}:{'string' if dtype == 'string' else 'int32'}:{path}")
    keys = sorted(outputs)
    args += [f"out:{outputs[k]}" for k in keys]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    proc = subprocess.run(args, capture_output=True, timeout=300, env=env)
    stdout, stderr = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace")
    if proc.returncode:
        return proc.returncode, None, stderr
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert [line["tensor"] for line in lines] == [outputs[k] for k in keys]
    return 0, {k: np.asarray(line["values"]).reshape(line["dims"]) for k, line in zip(keys, lines)}, stderr


def decode_records(model_dir, folder, *flags):
    """The JSON records of --mode=decode on POSTS x EMOTIONS (a fresh process, as a user runs it)."""
    posts, out = pathlib.Path(folder) / "posts.txt", pathlib.Path(folder) / "decoded.jsonl"
    posts.write_text("\n".join(POSTS) + "\n", encoding="utf-8")
    proc = run_cli("--mode=decode", f"--model_dir={model_dir}", f"--input={posts}", f"--output={out}",
                   f"--emotion={','.join(EMOTIONS)}", *flags)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def assert_matches_decode(served, records, key, score_key, atol, export_dir):
    """The C loader's rows (post outer, emotion inner, as the records) equal decode's candidates (the
    record's `key` list): the texts exactly, the scores (`score_key`) within `atol`, and the scores
    within 1e-5 of the same export under Python's session loader."""
    from ecm_tf.saved_models import SessionModel

    posts, emotions = rows()
    python = SessionModel(str(export_dir)).run(posts=posts, emotions=emotions)
    np.testing.assert_allclose(served["scores"], python["scores"], atol=1e-5)
    assert served["responses"].tolist() == np.char.decode(python["responses"].astype(bytes), "utf-8").tolist()
    assert len(records) == len(POSTS) * len(EMOTIONS)
    for i, r in enumerate(records):
        texts = [c["response"] for c in r[key]]
        assert [t for t in served["responses"][i].tolist() if t][:len(texts)] == texts, (i, r["post"], r["emotion"])
        np.testing.assert_allclose(served["scores"][i][:len(texts)], [c[score_key] for c in r[key]], atol=atol)


def rows():
    return [p for p in POSTS for _ in EMOTIONS], [e for _ in POSTS for e in EMOTIONS]


def test_ecm_export_in_the_c_loader_equals_decode(loader, tmp_path):
    make_model_dir(tmp_path / "model")
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), beam_size=4, top_k=3)
    family, saved = registry.open(cfg.model_dir)
    export_dir, _ = family.export(family.load(cfg, cfg.model_dir, saved), cfg, str(tmp_path / "export"))
    posts, emotions = rows()
    code, served, stderr = run_c(loader, export_dir, {"posts": posts, "emotions": emotions}, tmp_path)
    assert code == 0, stderr
    assert served["responses"].shape == (9, 3) and served["emotions"].tolist() == emotions
    records = decode_records(cfg.model_dir, tmp_path, "--beam_size=4", "--top_k=3")
    # ECM's records round scores to 4 decimals: within half their last digit.
    assert_matches_decode(served, records, "responses", "score", 5e-5, export_dir)


def test_pe2r_export_in_the_c_loader_equals_decode(loader, tmp_path):
    from ecm_tf.models.cerg import serving_module
    from ecm_tf.models.cerg import trainer as cerg_trainer

    cfg = ecm_flags.defaults().replace(
        model="pe2r", model_dir=str(tmp_path / "model"), embed_dim=16, hidden=16, emotion_dim=8, cerg_max_chars=8,
        batch_size=4, max_steps=3, log_every=1000, steps_per_checkpoint=1000, steps_per_eval=1000,
        jit_compile=False, vocab_size=200, beam_size=3)
    pairs = [("今天天气真好", "是啊出去玩吧", 1), ("我好难过", "别难过了", 2), ("气死我了", "谁惹你了", 4),
             ("好开心啊", "恭喜你", 5)]
    pairs = [(list(p), list(r), e) for p, r, e in pairs]
    cerg_trainer.train(cfg, pairs, quiet=True)
    export_dir = serving_module.export(cfg.model_dir, str(tmp_path / "export"))
    posts, emotions = rows()
    code, served, stderr = run_c(loader, export_dir, {"posts": posts, "emotions": emotions}, tmp_path)
    assert code == 0, stderr
    records = decode_records(cfg.model_dir, tmp_path, "--beam_size=3", "--top_k=3")
    assert_matches_decode(served, records, "candidates", "log_prob", 1e-5, export_dir)


def test_classifier_export_in_the_c_loader_equals_python(loader, tmp_path):
    from ecm_tf.classifier import train
    from ecm_tf.classifier.data import tokenize
    from ecm_tf.classifier.vocabulary import ClassifierVocabulary
    from ecm_tf.saved_models import SessionModel

    sentences = [("我 很 难过", 2), ("今天 很 高兴", 5), ("气死 我 了", 4), ("这 东西 真 恶心", 3)]
    tokens = [tokenize(s, 16) for s, _ in sentences]
    vocab = ClassifierVocabulary.build(tokens, max_size=50, min_count=1)
    ids = [vocab.encode(t) for t in tokens]
    cfg = ecm_flags.defaults().replace(classifier="lstm", clf_embed_dim=8, clf_hidden=8, clf_epochs=1,
                                    clf_batch_size=4, seed=3)
    model, _ = train.fit(cfg, ids, [e for _, e in sentences], ids, [e for _, e in sentences], len(vocab),
                         log=lambda m: None)
    export_dir = train.export(model, vocab, str(tmp_path / "clf"))
    width = max(map(len, ids))
    batch = [row + [0] * (width - len(row)) for row in ids]
    code, served, stderr = run_c(loader, export_dir, {"ids": batch}, tmp_path)
    assert code == 0, stderr
    python = SessionModel(export_dir).run(ids=np.asarray(batch, np.int32))
    assert served["label"].tolist() == python["label"].tolist()
    np.testing.assert_allclose(served["logits"], python["logits"], atol=1e-5)
    np.testing.assert_allclose(served["probabilities"], python["probabilities"], atol=1e-5)


class _TracksKerasLayers(tf.Module):
    """The broken pattern of docs/serving.md: the module tracks a Keras 3 layer, not its variables."""

    def __init__(self):
        super().__init__()
        self.embedding = tf.keras.layers.Embedding(10, 4)
        self.embedding.build((None, None))

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name="ids")])
    def serve(self, ids):
        return {"sums": tf.reduce_sum(self.embedding(ids), axis=[1, 2])}  # [B]


def test_a_module_tracking_keras_layers_fails_in_the_c_loader(loader, tmp_path):
    module = _TracksKerasLayers()
    tf.saved_model.save(module, str(tmp_path / "broken"), signatures={"serving_default": module.serve})
    code, served, stderr = run_c(loader, tmp_path / "broken", {"ids": [[1, 2], [3, 0]]}, tmp_path)
    assert code == 1 and served is None
    assert "error: TF_SessionRun: " in stderr and "Could not find variable" in stderr, stderr[-2000:]
