"""--mode=export: the SavedModel, reloaded in a fresh process, answers like the in-process decoder."""

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from ecm_tf import config
from ecm_tf.decoding import decode as decode_lib
from ecm_tf.errors import InputError
from ecm_tf.serving import export as export_lib
from test_decoding_decode import make_model_dir

POSTS = ["你 没有 任何 意义", "今天 天气 真 好 啊", "我 1998 年 就 在 这里 了 ， 一直 没有 离开 过 这个 城市"]
EMOTIONS = ["Sad", "happy", "4"]

RELOAD = """
import json, sys
import tensorflow as tf
m = tf.saved_model.load(sys.argv[1])
serve = m.signatures["serving_default"]
out = serve(posts=tf.constant(json.loads(sys.argv[2])), emotions=tf.constant(json.loads(sys.argv[3])))
ids = m.signatures["decode_ids"](post=tf.constant([[5, 6, 0]]), post_len=tf.constant([2]), emotion=tf.constant([1]))
print(json.dumps({"responses": [[r.decode() for r in row] for row in out["responses"].numpy()],
                  "scores": out["scores"].numpy().tolist(), "ids_shape": list(ids["ids"].shape),
                  "signatures": sorted(m.signatures)}, ensure_ascii=False))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    make_model_dir(root / "model")
    cfg = config.defaults().replace(model_dir=str(root / "model"), export_dir=str(root / "export" / "1"),
                                    beam_size=4, top_k=3)
    decoder, model_cfg = decode_lib.load_decoder(cfg)
    module = export_lib.ServingModule(decoder.model, model_cfg, decoder.post_vocab, decoder.response_vocab)
    export_lib.export(module, cfg.export_dir)
    return cfg, decoder


def test_saved_model_matches_in_process_decoder(exported):
    cfg, decoder = exported
    proc = subprocess.run([sys.executable, "-c", RELOAD, cfg.export_dir, json.dumps(POSTS), json.dumps(EMOTIONS)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    served = json.loads(proc.stdout.strip().splitlines()[-1])
    assert served["signatures"] == ["decode_ids", "serving_default"]
    assert served["ids_shape"][:2] == [1, 3]
    emotion_ids = [2, 5, 4]
    for i, (post, e) in enumerate(zip(POSTS, emotion_ids)):
        expected = decoder.decode([post.split()], [e])[(0, e)]
        assert served["responses"][i] == [" ".join(t) for t, _ in expected]
        np.testing.assert_allclose(served["scores"][i], [s for _, s in expected], rtol=1e-4)
    # The 15-word post is in bucket 16: responses of up to 16 tokens (EOS included).
    assert all(len(r.split()) <= 16 for r in served["responses"][2])


def test_export_refuses_existing_folder(exported):
    cfg, _ = exported
    with pytest.raises(InputError, match="already exists"):
        export_lib.run(cfg)
