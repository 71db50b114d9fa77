"""--mode=export: the SavedModel runs under TF Serving's loader (TF1 session path, and the real
`saved_model_cli run`) exactly as under tf.saved_model.load and as the in-process generator; the
writer's version layout and permissions."""

import os
import pathlib
import stat
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, assert_loaders_agree, load_both_ways, load_both_ways_many
from ecm_tf.models.ecm import serving_module
from ecm_tf.models.ecm import family as ecm_family
from ecm_tf import flags as ecm_flags
from ecm_tf import saved_models
from ecm_tf.errors import InputError
from ecm_tf.serving import export as export_lib
from test_decoding_decode import make_model_dir

# Unknown words, a digit run (normalised to 0 when the word is unknown), names in any case and ids.
POSTS = ["你 没有 任何 意义", "今天 天气 真 好 啊 未登录词", "我 1998 年 就 在 这里 了 ， 一直 没有 离开 过 这个 城市",
         "我 12 年", "我 00 年"]  # "12" is not in the post vocabulary, "00" is
EMOTIONS = ["Sad", "happy", "4", "like", "1"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    make_model_dir(root / "model")
    cfg = ecm_flags.defaults().replace(model_dir=str(root / "model"), export_dir=str(root / "export"),
                                    beam_size=4, top_k=3)
    generator, model_cfg = ecm_family.load_generator(cfg)
    module = serving_module.ServingModule(generator.model, model_cfg, generator.post_vocab, generator.response_vocab)
    old = os.umask(0o077)  # the writer sets the modes itself, whatever the umask
    try:
        path = serving_module.export(module, cfg.export_dir)
    finally:
        os.umask(old)
    return cfg, generator, path


def test_session_loader_matches_tf2_loader_and_decoder(exported):
    cfg, generator, path = exported
    assert path == os.path.join(cfg.export_dir, "1")
    both = load_both_ways(path, "serving_default", {"posts": POSTS, "emotions": EMOTIONS})
    assert_loaders_agree(both)
    served = both["session"]
    for i, (post, e) in enumerate(zip(POSTS, [2, 5, 4, 1, 1])):
        expected = generator.decode([post.split()], [e])[(0, e)]
        assert served["responses"][i] == [" ".join(t) for t, _ in expected]
        np.testing.assert_allclose(served["scores"][i], [s for _, s in expected], rtol=1e-4)
    assert served["responses"][3] == served["responses"][4]  # digits looked up as 0 in the graph
    np.testing.assert_array_equal(served["scores"][3], served["scores"][4])
    # The 15-word post is in bucket 16: responses of up to 16 tokens (EOS included).
    assert all(len(r.split()) <= 16 for r in served["responses"][2])
    ids = load_both_ways(path, "decode_ids", {"post": [[5, 6, 0]], "post_len": [2], "emotion": [1]})
    assert_loaders_agree(ids)
    assert np.asarray(ids["session"]["ids"]).shape[:2] == (1, 3)


@pytest.mark.slow
def test_unknown_emotion_is_refused_by_both_loaders(exported):
    both = load_both_ways(exported[2], "serving_default", {"posts": ["你好"], "emotions": ["Joy"]})
    assert "unknown emotion" in both["session_error"] and "unknown emotion" in both["tf2_error"]
    both = load_both_ways(exported[2], "serving_default", {"posts": ["你好", "  "], "emotions": ["Sad", "Sad"]})
    assert "empty post" in both["session_error"] and "empty post" in both["tf2_error"]
    both = load_both_ways(exported[2], "serving_default", {"posts": ["你好"], "emotions": ["auto"]})
    assert "unknown emotion" in both["session_error"]  # this export was made without the auto table


def test_no_posts_and_mismatched_lengths(exported):
    """Zero posts: empty outputs of the right dtypes and shapes ([0, K]); inputs of different row
    counts: a message naming them. Both signatures, under TF Serving's loader and tf.saved_model.load."""
    empty, longer, shorter = load_both_ways_many(exported[2], "serving_default", [
        {"posts": [], "emotions": []}, {"posts": ["你好", "好"], "emotions": ["Sad"]},
        {"posts": ["你好"], "emotions": ["Sad", "Happy"]}])
    assert empty["session"] == empty["tf2"] == {"responses": [], "scores": [], "emotions": [], "post_emotions": []}
    assert empty["session_shapes"] == {"responses": [0, 3], "scores": [0, 3], "emotions": [0], "post_emotions": [0]}
    assert empty["tf2_dtypes"] == {"responses": "string", "scores": "float32", "emotions": "string",
                                   "post_emotions": "string"}
    for both in (longer, shorter):
        for loader in ("session_error", "tf2_error"):
            assert "inputs posts and emotions must have the same number of rows" in both[loader], both
    empty, mismatched = load_both_ways_many(exported[2], "decode_ids", [
        {"post": {"zeros": [0, 3]}, "post_len": {"zeros": [0]}, "emotion": {"zeros": [0]}},
        {"post": [[5, 6, 0]], "post_len": [2, 2], "emotion": [1]}])
    assert empty["session_shapes"] == {"ids": [0, 3, 0], "scores": [0, 3], "lengths": [0, 3]}
    assert empty["tf2_dtypes"] == {"ids": "int32", "scores": "float32", "lengths": "int32"}
    for loader in ("session_error", "tf2_error"):
        assert "inputs post, post_len and emotion must have the same number of rows" in mismatched[loader]


def test_saved_model_cli_run(exported):
    """The stock tool, as a TF Serving user checks an export (same loader as the C++ server)."""
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    if not cli.exists():
        pytest.skip(f"{cli} not installed beside this Python")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([str(cli), "run", "--dir", exported[2], "--tag_set", "serve", "--signature_def",
                           "serving_default", "--input_exprs", 'posts=["你 没有 任何 意义"];emotions=["Sad"]'],
                          capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Result for output key responses" in proc.stdout and "Result for output key scores" in proc.stdout


def test_permissions_readable_by_a_serving_user(exported):
    path = exported[2]
    for folder, dirs, files in os.walk(path):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755, folder
        for f in files:
            assert stat.S_IMODE(os.stat(os.path.join(folder, f)).st_mode) == 0o644, f


def test_version_layout_never_replaces_an_export(exported, tmp_path):
    cfg, _, path = exported
    with pytest.raises(InputError, match="already exists"):
        export_lib.run(cfg.replace(export_dir=path))
    with pytest.raises(InputError, match="holds a SavedModel already"):
        saved_models.version_dir(_copy_as_plain_folder(path, tmp_path))
    (tmp_path / "base" / "3").mkdir(parents=True)
    (tmp_path / "base" / "notes").mkdir()
    assert saved_models.version_dir(str(tmp_path / "base")) == str(tmp_path / "base" / "4")
    assert saved_models.version_dir(str(tmp_path / "fresh")) == str(tmp_path / "fresh" / "1")
    assert saved_models.latest_version(cfg.export_dir) == path


def _copy_as_plain_folder(path, tmp_path):
    import shutil

    target = tmp_path / "plain"
    shutil.copytree(path, target)
    return str(target)


def test_failed_save_leaves_nothing(tmp_path):
    class Broken:
        pass

    with pytest.raises(Exception):
        saved_models.write(Broken(), str(tmp_path / "export"), {})
    assert not (tmp_path / "export").exists() or os.listdir(tmp_path / "export") == []


def test_max_decode_len_and_code_mode_padding_match_the_decoder(tmp_path):
    """--max_decode_len=N gives N response tokens in the export as in decode, and a code-mode model
    (the encoder reads the PAD positions) gets its posts padded to the bucket size as in decode."""
    from ecm_tf.models.ecm.generator import ResponseGenerator

    make_model_dir(tmp_path / "model", encoder_input="code", gru_cell="code")
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), beam_size=3, top_k=2)
    generator, model_cfg = ecm_family.load_generator(cfg)
    model_cfg = model_cfg.replace(max_decode_len=3)
    short = ResponseGenerator(generator.model, model_cfg, generator.post_vocab, generator.response_vocab)
    module = serving_module.ServingModule(generator.model, model_cfg, generator.post_vocab, generator.response_vocab)
    path = serving_module.export(module, str(tmp_path / "export"))
    both = load_both_ways(path, "serving_default", {"posts": POSTS[:2], "emotions": ["Sad", "Happy"]})
    assert_loaders_agree(both)
    for i, (post, e) in enumerate(zip(POSTS[:2], [2, 5])):
        expected = short.decode([post.split()], [e])[(0, e)]
        assert both["session"]["responses"][i] == [" ".join(t) for t, _ in expected]
        np.testing.assert_allclose(both["session"]["scores"][i], [s for _, s in expected], rtol=1e-4)


def test_min_decode_len_of_the_model_folder_is_in_the_export(tmp_path, capsys):
    """A folder trained with --min_decode_len=3 exports a graph that searches as decode does with it."""
    make_model_dir(tmp_path / "model", min_decode_len=3)
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), export_dir=str(tmp_path / "export"),
                                       beam_size=3, top_k=2)
    export_lib.run(cfg)
    assert "beam 3, top 2, min length 3" in capsys.readouterr().out
    generator, model_cfg = ecm_family.load_generator(cfg)
    assert generator.cfg.min_decode_len == 3
    both = load_both_ways(str(tmp_path / "export" / "1"), "serving_default",
                          {"posts": POSTS[:2], "emotions": ["Sad", "Happy"]})
    assert_loaders_agree(both)
    for i, (post, e) in enumerate(zip(POSTS[:2], [2, 5])):
        expected = generator.decode([post.split()], [e])[(0, e)]
        assert all(len(t) >= 3 for t, _ in expected)
        assert both["session"]["responses"][i] == [" ".join(t) for t, _ in expected]
        np.testing.assert_allclose(both["session"]["scores"][i], [s for _, s in expected], rtol=1e-4)
