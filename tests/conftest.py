"""Shared test fixtures: paths to the repository, ../shared data, and a helper to run the CLI."""

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_DATA = SHARED / "data"


def shared_path(*parts):
    """Path under ../shared/data, or skip the test with a reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data is only beside the development checkout)")
    return path


def prepare_data(cfg):
    """data/prep.py as --mode=prep runs it: with the labeller of --label_source."""
    from ecm_tf.classifier import labeller
    from ecm_tf.data import prep

    return prep.prepare(cfg, labeller.for_config(cfg))


def run_cli(*args, cwd=None, stdin=None, timeout=600):
    """Runs `python -m ecm_tf.main ARGS` and returns the CompletedProcess (text mode)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ecm_tf.main", *args], cwd=cwd or REPO, input=stdin,
        capture_output=True, text=True, timeout=timeout, env=env)


def load_both_ways(export_dir, signature, inputs, timeout=300):
    """{"session": outputs, "tf2": outputs} (or "<loader>_error": its message) of one request
    to the SavedModel at export_dir, from a fresh process; outputs as lists, strings decoded."""
    out = load_both_ways_many(export_dir, signature, [inputs], timeout)[0]
    return {k: v for k, v in out.items() if k not in ("session_shapes", "tf2_dtypes")}


def assert_loaders_agree(both, atol=1e-5):
    """The session loader's outputs equal tf.saved_model.load's: texts and ids exactly, floats within atol."""
    import numpy as np

    assert "session" in both and "tf2" in both, both
    session, tf2 = both["session"], both["tf2"]
    assert sorted(session) == sorted(tf2)
    for k in session:
        if np.asarray(session[k]).dtype.kind == "f":
            np.testing.assert_allclose(session[k], tf2[k], atol=atol, err_msg=k)
        else:
            assert session[k] == tf2[k], k


# Loads a SavedModel in a fresh process twice: as TF Serving does (TF1 loader: restore op + main op,
# then Session.run of the signature) and with tf.saved_model.load, and runs several requests through
# both: argv[3] is a JSON list of input dicts (a value {"zeros": shape} is an empty array of that
# shape); prints one JSON line per request, {"session": ..., "tf2": ...} or the loaders' error messages.
_BOTH_LOADERS_MANY = r"""
import json, sys
import numpy as np
import tensorflow as tf
path, signature, requests = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def plain(outputs):
    return {k: np.char.decode(v.astype(bytes), "utf-8").tolist() if v.dtype.kind in "SO" else v.tolist()
            for k, v in outputs.items()}
graph = tf.Graph()
session = tf.compat.v1.Session(graph=graph)
with graph.as_default():
    meta = tf.compat.v1.saved_model.loader.load(session, ["serve"], path)
sig = meta.signature_def[signature]
fn = tf.saved_model.load(path).signatures[signature]
def array(v, dtype):
    if isinstance(v, dict):  # {"zeros": shape}: an empty array of that shape
        return np.zeros(v["zeros"], dtype=object if dtype == tf.string else dtype.as_numpy_dtype)
    return np.asarray(v, dtype=object if dtype == tf.string else None)
for inputs in requests:
    out, names = {}, sorted(sig.outputs)
    try:
        feeds = {sig.inputs[k].name: array(v, tf.as_dtype(sig.inputs[k].dtype)) for k, v in inputs.items()}
        values = session.run([sig.outputs[k].name for k in names], feed_dict=feeds)
        out["session"] = plain(dict(zip(names, values)))
        out["session_shapes"] = {k: list(np.shape(v)) for k, v in zip(names, values)}
    except tf.errors.OpError as e:
        out["session_error"] = e.message[:2000]
    try:
        spec = fn.structured_input_signature[1]
        result = fn(**{k: tf.constant(array(v, spec[k].dtype), dtype=spec[k].dtype) for k, v in inputs.items()})
        out["tf2"] = plain({k: v.numpy() for k, v in result.items()})
        out["tf2_dtypes"] = {k: v.dtype.name for k, v in result.items()}
    except (tf.errors.OpError, ValueError) as e:
        out["tf2_error"] = str(e)[:2000]
    print(json.dumps(out, ensure_ascii=False), flush=True)
"""


def load_both_ways_many(export_dir, signature, requests, timeout=300):
    """[load_both_ways(export_dir, signature, inputs) for inputs in requests], from one fresh process;
    with "session_shapes" and "tf2_dtypes" beside the outputs."""
    import json

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", _BOTH_LOADERS_MANY, str(export_dir), signature,
                           json.dumps(requests, ensure_ascii=False)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
