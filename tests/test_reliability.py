"""Reliability probes (docs/reliability.md): one writer per folder, prep folders that
never mix two preps, output paths checked before the work, bad input as one line, and fault
injection: runs killed (SIGKILL, at points the environment variable io_utils.FAULT_ENV names) while
they write, then run again."""

import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import REPO, prepare_data
from ecm_tf import flags as ecm_flags
from ecm_tf import io_utils
from ecm_tf import saved_models
from ecm_tf.data import readers
from ecm_tf.data import tfrecords
from ecm_tf.errors import InputError
from test_cli_probes import cli, one_line_error
from test_decoding_decode import FIXTURE, make_model_dir

OLD = "今天 天气 真 好\t是 啊 我 很 开心\tHappy\n我 的 猫 丢 了\t别 难过 ， 会 找到 的\tSad\n"
NEW = "你 在 干 什么\t在 看 书 呢\tLike\n明天 见\t好 的 明天 见\tHappy\n气死 我 了\t别 生气\tAngry\n"


def _corpus(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _cfg(tmp_path, text, **kw):
    values = dict(input=_corpus(tmp_path, f"c{len(text)}.tsv", text), output_dir=str(tmp_path / "out"),
                  num_shards=2, dev_fraction=0.0)
    values.update(kw)
    return ecm_flags.defaults().replace(**values)


def _hashes(folder, skip=("prep_stats.json", "config.json")):
    """{file name: sha256} of a folder's visible files (`skip`: the files that name times and paths)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(pathlib.Path(folder).iterdir())
            if not p.name.startswith(".") and p.name not in skip}


def _temps(folder):
    folder = pathlib.Path(folder)
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}.") and p.name.endswith(".tmp"))


# --- 1. a re-prep never leaves shards of an earlier prep; readers refuse a folder that mixes two --

def test_reprep_leaves_no_shard_of_the_earlier_prep(tmp_path):
    test_file = _corpus(tmp_path, "test.tsv", OLD)
    prepare_data(_cfg(tmp_path, OLD, test_input=test_file))
    assert tfrecords.split_files(str(tmp_path / "out"), "test")
    prepare_data(_cfg(tmp_path, NEW))  # no test split this time
    assert tfrecords.split_files(str(tmp_path / "out"), "test") == []
    assert "test" not in json.loads((tmp_path / "out" / "prep_stats.json").read_text())["splits"]


def test_readers_refuse_shards_the_manifest_does_not_list(tmp_path):
    """A folder mixed by an earlier version (stale test shards beside a newer vocabulary)."""
    test_file = _corpus(tmp_path, "test.tsv", OLD)
    prepare_data(_cfg(tmp_path, OLD, test_input=test_file, output_dir=str(tmp_path / "old")))
    prepare_data(_cfg(tmp_path, NEW))
    for shard in tfrecords.split_files(str(tmp_path / "old"), "test"):
        shutil.copy(shard, tmp_path / "out")
    with pytest.raises(InputError, match=r"--data_dir=.*out: test-00000-of-00002.tfrecord, test-00001-of-00002"
                                         r".tfrecord not written by the prep"):
        tfrecords.split_files(str(tmp_path / "out"), "test")
    from ecm_tf.evaluation import evaluate

    with pytest.raises(InputError, match="not written by the prep"):
        evaluate.pick_split(str(tmp_path / "out"))
    os.remove(tmp_path / "out" / "train-00001-of-00002.tfrecord")
    with pytest.raises(InputError, match="train-00001-of-00002.tfrecord missing"):
        tfrecords.split_files(str(tmp_path / "out"), "train")


def test_prep_refuses_a_model_folder_and_a_foreign_folder(tmp_path):
    model = tmp_path / "model"
    make_model_dir(model)
    with pytest.raises(InputError, match="--output_dir=.*model: holds a trained model"):
        prepare_data(_cfg(tmp_path, OLD, output_dir=str(model)))
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("mine")
    with pytest.raises(InputError, match="not a prep folder"):
        prepare_data(_cfg(tmp_path, OLD, output_dir=str(other)))
    assert (other / "todo.txt").read_text() == "mine" and sorted(os.listdir(other)) == ["todo.txt"]


# --- 2. fault injection in prep: the folder holds the old set or the new set, never a mix --------

@pytest.mark.parametrize("point, expect", [("prep_shards", "old"), ("prep_before_swap", "old"),
                                           ("folder_swapped", "new")])
def test_killed_reprep_leaves_one_whole_set(tmp_path, point, expect):
    prepare_data(_cfg(tmp_path, OLD))
    old = _hashes(tmp_path / "out", skip=())
    new_cfg = _cfg(tmp_path, NEW, output_dir=str(tmp_path / "reference"))
    prepare_data(new_cfg)
    new = _hashes(tmp_path / "reference")
    args = ["--mode=prep", f"--input={new_cfg.input}", f"--output_dir={tmp_path / 'out'}", "--num_shards=2",
            "--dev_fraction=0"]
    env = dict(os.environ, **{io_utils.FAULT_ENV: point}, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "ecm_tf.main", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    if expect == "old":
        assert _hashes(tmp_path / "out", skip=()) == old
    else:
        assert _hashes(tmp_path / "out") == new
    assert _temps(tmp_path / "out")  # the killed run's temporary folder is still there ...
    again = cli(*args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _hashes(tmp_path / "out") == new
    assert _temps(tmp_path / "out") == []  # ... and the next prep removes it


# --- 3. one writer per model folder and per export base ------------------------------------------

def _smoke(tmp_path, model_dir, **kw):
    values = dict(data_dir=str(FIXTURE), model_dir=str(model_dir), embed_dim=8, hidden=8, emotion_dim=4,
                  bucket_boundaries=[], batch_size=8, max_steps=2, steps_per_checkpoint=2, steps_per_eval=0,
                  jit_compile=False, shuffle_buffer=100)
    values.update(kw)
    return ecm_flags.defaults().replace(**values)


def test_second_trainer_on_a_model_folder_is_refused(tmp_path):
    from ecm_tf.models import registry

    model_dir = tmp_path / "model"
    with io_utils.folder_lock(str(model_dir), "--model_dir"):  # a first trainer still running
        with pytest.raises(InputError, match=rf"--model_dir=.*model: being written by pid {os.getpid()}"):
            registry.train(_smoke(tmp_path, model_dir))
    assert not model_dir.exists() or not any(model_dir.iterdir())


def test_second_export_into_a_base_is_refused_and_killed_exports_are_cleaned(tmp_path):
    import tensorflow as tf

    class Tiny(tf.Module):
        def __init__(self):
            super().__init__()
            self.v = tf.Variable(2.0)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32, name="x")])
        def serve(self, x):
            return {"y": x * self.v}

    base = tmp_path / "export"
    module = Tiny()
    with io_utils.folder_lock(str(base), "--export_dir"):  # another export choosing its version
        with pytest.raises(InputError, match=rf"--export_dir=.*export: being written by pid {os.getpid()}"):
            saved_models.write(module, str(base), {"serving_default": module.serve})
    # Two exports one after the other: distinct versions.
    assert saved_models.write(module, str(base), {"serving_default": module.serve}) == str(base / "1")
    assert saved_models.write(module, str(base), {"serving_default": module.serve}) == str(base / "2")
    # A temporary folder left by a killed export is removed by the next one.
    (base / ".3.abcd1234.tmp" / "variables").mkdir(parents=True)
    assert saved_models.write(module, str(base), {"serving_default": module.serve}) == str(base / "3")
    assert sorted(os.listdir(base)) == ["1", "2", "3"]


# --- 4., 5. output paths checked before the work -------------------------------------------------

def test_output_paths_are_checked_before_the_work(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="folder: is a folder; expected a file"):
        with io_utils.atomic_open(str(tmp_path / "folder")) as f:
            f.write("never")
    with pytest.raises(InputError, match=r"--output=.*folder: is a folder; expected a file"):
        io_utils.check_output_file(str(tmp_path / "folder"), "--output")
    with pytest.raises(InputError, match=r"--output=.*file/x.jsonl: .*file is a file, not a folder"):
        io_utils.check_output_file(str(tmp_path / "file" / "x.jsonl"), "--output")
    with pytest.raises(InputError, match=r"--model_dir=.*file: is a file, not a folder"):
        io_utils.check_output_folder(str(tmp_path / "file"), "--model_dir")
    with pytest.raises(InputError, match=r"--export_dir=.*file/sub: .*is a file, not a folder"):
        saved_models.check_writable(str(tmp_path / "file" / "sub"))
    io_utils.check_output_file(str(tmp_path / "new" / "deeper" / "x.jsonl"), "--output")  # creatable: fine
    assert not (tmp_path / "new").exists()


def test_decode_to_a_folder_fails_before_decoding(tmp_path, capsys):
    from ecm_tf.decoding import decode

    model = tmp_path / "model"
    make_model_dir(model)
    (tmp_path / "out").mkdir()
    cfg = ecm_flags.defaults().replace(model_dir=str(model), input=_corpus(tmp_path, "posts.txt", "你好\n"),
                                       output=str(tmp_path / "out"), emotion="Happy")
    with pytest.raises(InputError, match="--output=.*out: is a folder"):
        decode.run(cfg)
    assert "loaded" not in capsys.readouterr().err  # refused before the model was even loaded


# --- 7. a prep folder is not a model folder, and the other way round -----------------------------

def test_model_dir_that_is_a_prep_folder(tmp_path):
    from ecm_tf.models import registry

    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    before = (data / "config.json").read_text()
    with pytest.raises(InputError, match=rf"--model_dir={data}: is a data folder of --mode=prep") as e:
        registry.train(_smoke(tmp_path, data, data_dir="runs/builtin/data"))
    assert "runs/builtin/data" not in str(e.value)  # not the default --data_dir the user never gave
    with pytest.raises(InputError, match="is a data folder of --mode=prep"):
        registry.open(str(data))  # decode, eval, export, chat
    assert (data / "config.json").read_text() == before


# --- 8. JSON nested very deep ---------------------------------------------------------------------

def test_deeply_nested_json_is_one_line(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(InputError, match="deep.json: JSON nested too deeply"):
        readers.read_corpus(str(path))


# --- 9. jieba's cache ------------------------------------------------------------------------------

def test_jieba_cache_of_another_user_gives_no_traceback(tmp_path):
    """jieba's default cache path taken by something this user cannot replace (here a folder; for a
    second user, root's 0600 /tmp/jieba.cache): before, two tracebacks on every run."""
    tmp = tmp_path / "tmp"
    (tmp / "jieba.cache").mkdir(parents=True)
    env = dict(os.environ, TMPDIR=str(tmp), HOME=str(tmp_path / "home"), XDG_CACHE_HOME="")
    proc = subprocess.run([sys.executable, "-c", "from ecm_tf.data import text; print(text.segment('今天天气真好'))"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0 and "今天" in proc.stdout, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.strip() == "", proc.stderr
    assert (tmp_path / "home" / ".cache" / "ecm_tf" / "jieba.cache").is_file()
    assert io_utils.user_cache_dir() == os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ecm_tf")


# --- 11. classifier data without labels -----------------------------------------------------------

def test_classifier_xml_without_emotion_labels_is_refused(tmp_path):
    from ecm_tf.classifier import data as clf_data

    xml = tmp_path / "plain.xml"
    xml.write_text('<?xml version="1.0" encoding="utf-8"?><TestingData><weibo id="1">'
                   '<sentence id="1">今天很开心</sentence><sentence id="2">好难过</sentence></weibo></TestingData>',
                   encoding="utf-8")
    with pytest.raises(InputError, match=r"--input=.*plain.xml: every sentence is Other"):
        clf_data.read_labelled(str(xml))


# --- 12. TSV header lines --------------------------------------------------------------------------

def test_tsv_header_line_never_becomes_data(tmp_path):
    path = tmp_path / "h.tsv"
    path.write_text("post\tresponse\temotion\n你 好\t你 也 好\tHappy\n", encoding="utf-8")
    pairs = readers.read_corpus(str(path))
    assert [(p.post, p.response, p.where) for p in pairs] == [("你 好", "你 也 好", f"{path}:2")]
    path.write_text("Post\tResponse\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"h.tsv: no pairs \(line 1 is a header\)"):
        readers.read_corpus(str(path))
    path.write_text("帖子\t回复\n你 好\t好\n", encoding="utf-8")
    assert len(readers.read_corpus(str(path))) == 1
    path.write_text("post 你好\tresponse\n", encoding="utf-8")  # not every column a column name: data
    assert len(readers.read_corpus(str(path))) == 1


# --- 13. --min_decode_len above --max_decode_len -----------------------------------------------------

def test_min_decode_len_above_max_decode_len_is_refused_at_parse_time(capsys):
    from absl import flags

    from ecm_tf import main

    try:
        with pytest.raises(SystemExit) as e:
            main._flags_parser(["ecm", "--mode=decode", "--min_decode_len=10", "--max_decode_len=3"])
        assert e.value.code == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and "--min_decode_len=10 is more than --max_decode_len=3" in err[0], err
        flags.FLAGS.unparse_flags()
        main._flags_parser(["ecm", "--min_decode_len=10", "--max_decode_len=0"])  # 0: the bucket size
        flags.FLAGS.unparse_flags()
        main._flags_parser(["ecm", "--min_decode_len=3", "--max_decode_len=3"])
    finally:
        flags.FLAGS.unparse_flags()


# --- 14. a post that is only a URL -------------------------------------------------------------------

def test_url_only_post_gets_an_empty_answer_and_the_rest_go_on(tmp_path, capsys):
    from ecm_tf.decoding import decode

    model = tmp_path / "model"
    make_model_dir(model)
    posts = _corpus(tmp_path, "posts.txt", "你好\nhttp://t.cn/abc\n今天 天气 真 好\n")
    out = tmp_path / "out.jsonl"
    decode.run(ecm_flags.defaults().replace(model_dir=str(model), input=posts, output=str(out), emotion="Happy,Sad"))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["post"], r["emotion"]) for r in records][2:4] == [("http://t.cn/abc", "Happy"), ("http://t.cn/abc", "Sad")]
    assert [r["response"] for r in records[2:4]] == ["", ""] and records[2]["skipped"] == "empty post"
    assert all(r["response"] and "skipped" not in r for r in records[:2] + records[4:])
    assert f"warning: {posts}:2: empty post; answered with an empty response" in capsys.readouterr().err


# --- 10. the serving client: timeout, slow server, malformed replies ---------------------------------

def test_client_timeout_is_not_cannot_reach(tmp_path):
    from ecm_tf.serving import client

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection (kernel backlog), never answers
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1/models/ecm:predict"
        with pytest.raises(InputError, match=r"no answer within 0.5 s \(--server_timeout=0.5\)"):
            client.predict(url, ["你好"], ["Happy"], timeout=0.5)
    finally:
        listener.close()
    assert ecm_flags.defaults().server_timeout == 60.0


@pytest.mark.parametrize("reply, fragment", [
    ({"outputs": {"responses": "好"}}, "outputs.responses: expected a list of lists of strings, got str"),
    ({"outputs": {"responses": [["好"], [1]]}}, "outputs.responses[1]: expected a list of strings"),
    ({"outputs": {"responses": [["好"], ["好"]], "scores": [["x"], [1.0]]}}, "outputs.scores[0]: expected a list of numbers"),
    ({"outputs": {"responses": [["好"], ["好"]], "scores": [[1.0, 2.0], [1.0]]}}, "outputs.scores does not match"),
    ({"predictions": [{"responses": "好"}, {"responses": ["好"]}]}, "predictions[].responses[0]: expected a list"),
    ({"outputs": {"responses": [["好"]]}}, "1 responses for 2 requests"),
    ([1, 2], "reply has no outputs.responses"),
])
def test_client_malformed_reply_names_the_field(reply, fragment):
    from ecm_tf.serving import client

    with pytest.raises(InputError) as e:
        client.parse_reply(reply, 2, "--server_url=http://x")
    assert fragment in str(e.value) and "\n" not in str(e.value)


# --- 5., 9. a second Unix user; 3., 15. fault injection in train and export (CLI) ---------------------

def _second_user():
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to run a command as the user nobody")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.mark.slow
def test_second_user_gets_one_line_per_unwritable_output():
    """As `nobody`: root's folders (0755) are readable, not writable, and root's jieba cache in the
    shared temporary folder is 0600 (jieba makes it so)."""
    as_nobody = _second_user()
    root = pathlib.Path(tempfile.mkdtemp(prefix="ecm_tf_second_user_"))
    try:
        model = root / "model"
        make_model_dir(model)
        (root / "posts.txt").write_text("你好\n", encoding="utf-8")
        (root / "corpus.tsv").write_text("你 好\t你 也 好\tHappy\n", encoding="utf-8")
        for path in [root, *root.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        shared_tmp = root / "tmp"  # as /tmp: sticky, everyone's
        shared_tmp.mkdir()
        os.chmod(shared_tmp, 0o1777)
        (shared_tmp / "jieba.cache").write_bytes(b"root's")
        os.chmod(shared_tmp / "jieba.cache", 0o600)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HOME", "XDG_CACHE_HOME")}
        env.update(TF_CPP_MIN_LOG_LEVEL="3", HOME="/nonexistent", TMPDIR=str(shared_tmp))

        def run(*args, stdin=""):
            return subprocess.run([*as_nobody, sys.executable, "-m", "ecm_tf.main", *args], cwd="/", env=env,
                                  input=stdin, capture_output=True, text=True, timeout=300)

        one_line_error(run("--mode=prep", f"--input={root / 'corpus.tsv'}", f"--output_dir={root / 'data'}"),
                       f"--output_dir={root / 'data'}: cannot write in {root} (permission denied)")
        one_line_error(run("--mode=train", f"--data_dir={FIXTURE}", f"--model_dir={root / 'm2'}"),
                       f"--model_dir={root / 'm2'}: cannot write in {root} (permission denied)")
        one_line_error(run("--mode=export", f"--model_dir={model}", f"--export_dir={root / 'export'}"),
                       f"--export_dir={root / 'export'}: cannot write in {root} (permission denied)")
        one_line_error(run("--mode=decode", f"--model_dir={model}", f"--input={root / 'posts.txt'}",
                           f"--output={root / 'o.jsonl'}"), f"--output={root / 'o.jsonl'}: cannot write in {root}")
        evaluate = run("--mode=eval", f"--model_dir={model}", "--eval_posts=2")
        one_line_error(evaluate, f"--model_dir={model}: cannot write in it (permission denied)")
        assert "decoded" not in evaluate.stderr and "loaded" not in evaluate.stderr  # before any work
        decode = run("--mode=decode", f"--model_dir={model}", "--emotion=Happy", "--beam_size=2", stdin="今天天气真好\n")
        assert decode.returncode == 0, decode.stderr[-2000:]
        # No jieba tracebacks (root's cache), no matplotlib warnings (no writable home): only these lines.
        assert [l.split(" ")[0] for l in decode.stderr.splitlines()] == ["loaded", "decode:"], decode.stderr[-2000:]
        assert sorted(p.name for p in root.iterdir()) == ["corpus.tsv", "model", "posts.txt", "tmp"]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_stopped(proc):
    """Waits until `proc` stops itself (SIGSTOP at a fault point) or ends; True when stopped."""
    while proc.poll() is None:
        with open(f"/proc/{proc.pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "T":
                return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_train_lock_and_kill_9_after_a_checkpoint(tmp_path):
    """Trainer A stops right after writing ckpt-10 (holding the lock); trainer B is refused naming A's
    pid, a decode reads ckpt-10 meanwhile without the lock; A is killed with -9 and B, run again,
    takes the stale lock and resumes."""
    args = ["--mode=train", "--flagfile=flags/ecm.flags", "--flagfile=flags/smoke.flags", f"--data_dir={FIXTURE}",
            "--bucket_boundaries=", "--batch_size=8", "--steps_per_eval=0", f"--model_dir={tmp_path / 'm'}"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO), **{io_utils.FAULT_ENV: "train_checkpoint:stop"})
    first = subprocess.Popen([sys.executable, "-m", "ecm_tf.main", *args], cwd=REPO, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_stopped(first), first.stderr.read()[-2000:]
        second = cli(*args, cwd=REPO)
        one_line_error(second, f"--model_dir={tmp_path / 'm'}: being written by pid {first.pid}")
        decode = cli("--mode=decode", f"--model_dir={tmp_path / 'm'}", "--emotion=Happy", "--beam_size=2",
                     cwd=REPO, stdin="你好\n")
        assert decode.returncode == 0 and f"loaded {tmp_path / 'm' / 'ckpt-10'} (step 10)" in decode.stderr, decode.stderr
    finally:
        first.kill()
        first.wait()
    assert (tmp_path / ".m.lock").read_text() == f"pid {first.pid}\n"  # left by the killed trainer
    rerun = cli(*args, cwd=REPO)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"resumed from {tmp_path / 'm' / 'ckpt-10'} at step 10" in rerun.stdout
    assert "done: step 20" in rerun.stdout
    straight = cli(*args[:-1], f"--model_dir={tmp_path / 'straight'}", cwd=REPO)  # never interrupted
    assert straight.returncode == 0, straight.stderr[-2000:]

    def losses(out, after):
        return [line.split(" ppl ")[0] for line in out.splitlines()
                if line.startswith("step ") and " loss " in line and int(line.split()[1].split("/")[0]) > after]

    assert losses(rerun.stdout, 10) == losses(straight.stdout, 10) and losses(rerun.stdout, 10)


@pytest.mark.slow
def test_export_killed_before_its_rename_leaves_nothing_served(tmp_path):
    model = tmp_path / "model"
    make_model_dir(model)
    base = tmp_path / "export"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO), **{io_utils.FAULT_ENV: "export_before_rename"})
    proc = subprocess.run([sys.executable, "-m", "ecm_tf.main", "--mode=export", f"--model_dir={model}",
                           f"--export_dir={base}"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert saved_models.latest_version(str(base)) is None
    (left,) = os.listdir(base)
    assert left.startswith(".1.") and left.endswith(".tmp")
    again = cli("--mode=export", f"--model_dir={model}", f"--export_dir={base}", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert sorted(os.listdir(base)) == ["1"]


def test_the_tsv_header_rule_is_documented():
    doc = (REPO / "docs" / "data.md").read_text(encoding="utf-8")
    assert "Header lines of TSV corpora" in doc
    assert ", ".join(sorted(readers.HEADER_WORDS)) in doc.replace("\n", " ")


def test_classify_and_annotate_check_their_output_first(tmp_path):
    from ecm_tf.classifier import annotate, classify

    (tmp_path / "out").mkdir()
    lines = _corpus(tmp_path, "lines.txt", "今天 很 高兴\n")
    for module in (classify, annotate):
        cfg = ecm_flags.defaults().replace(input=lines, output=str(tmp_path / "out"),
                                           classifier_dir=str(tmp_path / "no_classifier"))
        with pytest.raises(InputError, match=r"--output=.*out: is a folder; expected a file"):
            module.run(cfg)


def test_train_classifier_checks_and_locks_its_folder(tmp_path):
    from ecm_tf.classifier import train

    xml = tmp_path / "x.xml"
    xml.write_text('<?xml version="1.0" encoding="utf-8"?><d><sentence emotion-1-type="happiness">好开心</sentence>'
                   '<sentence emotion-1-type="sadness">好难过</sentence></d>', encoding="utf-8")
    (tmp_path / "file").write_text("x")
    cfg = ecm_flags.defaults().replace(input=str(xml), classifier="lexicon", model_dir=str(tmp_path / "clf"))
    with pytest.raises(InputError, match=r"--model_dir=.*file: is a file, not a folder"):
        train.run(cfg.replace(model_dir=str(tmp_path / "file")))
    with io_utils.folder_lock(str(tmp_path / "clf"), "--model_dir"):
        with pytest.raises(InputError, match=rf"--model_dir=.*clf: being written by pid {os.getpid()}"):
            train.run(cfg)


# --- probes that were clean in this round: kept clean ---------------------------------------------

@pytest.mark.parametrize("name, raw, pairs, fragment", [
    ("bom.tsv", "\ufeff你 好\t你 也 好\tHappy\n".encode(), 1, None),
    ("nul.tsv", "你 好\x00\t你 也 好\tHappy\n".encode(), 1, None),
    ("long.tsv", ("你" * 1_000_000 + "\t好\tHappy\n").encode(), 1, None),
    ("gbk.tsv", "你 好\t你 也 好\tHappy\n".encode("gbk"), 0, "gbk.tsv:1: invalid UTF-8"),
    ("cols.tsv", b"a\tb\tc\td\n", 0, "cols.tsv:1: expected post<TAB>response[<TAB>emotion], got 4 column(s)"),
    ("tabs.tsv", b"\t\t\n\t\n", 0, "tabs.tsv: no pairs"),
    ("shape.json", b'{"a": 1}', 0, "shape.json: expected a JSON list"),
])
def test_clean_corpus_probes_stay_clean(tmp_path, name, raw, pairs, fragment):
    path = tmp_path / name
    path.write_bytes(raw)
    if fragment is None:
        assert len(readers.read_corpus(str(path))) == pairs
    else:
        with pytest.raises(InputError) as e:
            readers.read_corpus(str(path))
        assert fragment in str(e.value) and "\n" not in str(e.value)
