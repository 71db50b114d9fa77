"""The reliability probes, run as a new user runs them: the installed `python -m ecm_tf.main` from a
folder outside the repository. Each bad input must end with exit status 2, one line naming the file
(and line) or the flag, no traceback, and nothing half-written left behind."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf

from conftest import REPO
from ecm_tf import io_utils
from test_decoding_decode import FIXTURE, make_model_dir

FLAGS = REPO / "flags"


def cli(*args, cwd, stdin="", closed_stdin=False):
    """Runs the installed command in `cwd` (no PYTHONPATH: the package as pip installed it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if closed_stdin:
        # `<&-`: the child starts with file descriptor 0 closed.
        return subprocess.run(["sh", "-c", '"$0" "$@" <&-', sys.executable, "-m", "ecm_tf.main", *args], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=600)
    return subprocess.run([sys.executable, "-m", "ecm_tf.main", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


def one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    errors = [l for l in proc.stderr.splitlines() if l.startswith("error: ")]
    assert len(errors) == 1, proc.stderr[-2000:]
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


# --- flags: refused at parse time, before anything is read or written -----------------------

@pytest.mark.parametrize("flag, fragment", [
    ("--batch_size=-5", "flag --batch_size=-5: must be >= 1"),
    ("--learning_rate=0", "flag --learning_rate=0.0: must be > 0"),
    ("--dev_fraction=1.5", "flag --dev_fraction=1.5: must be >= 0 and < 1"),
    ("--bucket_boundaries=12,x", "'x' is not a positive integer"),
    ("--beam_size=0", "flag --beam_size=0: must be >= 1"),
    ("--max_steps=-1", "flag --max_steps=-1: must be >= 0"),
    ("--nonsense=1", "nonsense"),
    ("--output=.", "flag --output=.: . is a folder; expected a file"),
    ("--server_timeout=0", "flag --server_timeout=0.0: must be > 0"),
])
def test_bad_flags(tmp_path, flag, fragment):
    proc = cli("--mode=train", f"--data_dir={FIXTURE}", f"--model_dir={tmp_path / 'm'}", flag, cwd=tmp_path)
    one_line_error(proc, fragment)
    assert not (tmp_path / "m").exists()  # no config.json with batch_size -5


def test_input_paths(tmp_path):
    one_line_error(cli("--mode=prep", f"--input={tmp_path}", cwd=tmp_path), "is a folder; expected a file")
    one_line_error(cli("--mode=prep", f"--input={tmp_path / 'nope.txt'}", cwd=tmp_path), "nope.txt: no such file")
    one_line_error(cli("--mode=prep", f"--vocab_dir={tmp_path / 'nope'}", cwd=tmp_path), "no such folder")


# --- prep: malformed inputs name file:line; no output folder appears -------------------------

@pytest.mark.parametrize("name, content, fragment", [
    ("bad.json", '[[["你好", 1, 1], [["好", 1, 1]]],\n  [oops]]', "bad.json:2: malformed JSON"),
    ("bad.tsv", "你 好\t我 很 好\tJoy\n", "bad.tsv:1:"),
    ("short.tsv", "只有 一列\n", "short.tsv:1:"),
    ("empty.tsv", "", "empty.tsv"),
])
def test_malformed_corpora(tmp_path, name, content, fragment):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    one_line_error(cli("--mode=prep", f"--input={path}", f"--output_dir={out}", cwd=tmp_path), fragment)
    assert files_under(out) == []


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_bytes("你 好\t我 很 好\n".encode() + b"\xff\xfe bad\tline\n")
    one_line_error(cli("--mode=prep", f"--input={path}", f"--output_dir={tmp_path / 'out'}", cwd=tmp_path),
                   "bad.tsv:2: invalid UTF-8")
    assert not (tmp_path / "out").exists()


def test_second_prep_into_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with io_utils.folder_lock(str(out), "--output_dir"):  # a first prep still writing
        proc = cli("--mode=prep", f"--output_dir={out}", cwd=tmp_path)
    one_line_error(proc, f"--output_dir={out}: being written by pid {os.getpid()}")
    assert files_under(out) == []


# --- models: damaged checkpoints, closed stdin, unknown emotions, taken export folders ------

@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("probes") / "model"
    make_model_dir(folder)
    return folder


def test_decode_and_chat_with_closed_stdin(model_dir, tmp_path):
    one_line_error(cli("--mode=decode", f"--model_dir={model_dir}", cwd=tmp_path, closed_stdin=True),
                   "standard input is closed")
    one_line_error(cli("--mode=chat", f"--model_dir={model_dir}", cwd=tmp_path, closed_stdin=True),
                   "--mode=chat: standard input is closed")


def test_unknown_emotion_and_missing_model(model_dir, tmp_path):
    one_line_error(cli("--mode=decode", f"--model_dir={model_dir}", "--emotion=Joy", cwd=tmp_path, stdin="你好\n"),
                   "--emotion: unknown emotion 'Joy'")
    one_line_error(cli("--mode=decode", f"--model_dir={tmp_path / 'nothing'}", cwd=tmp_path, stdin="你好\n"),
                   "no such folder")


@pytest.mark.slow
def test_decode_says_what_it_loaded_and_refuses_a_damaged_checkpoint(model_dir, tmp_path):
    ok = cli("--mode=decode", f"--model_dir={model_dir}", "--emotion=Happy", cwd=tmp_path, stdin="你好\n")
    assert ok.returncode == 0, ok.stderr[-2000:]
    prefix = tf.train.latest_checkpoint(str(model_dir))
    assert f"loaded {prefix}" in ok.stderr
    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    data = tf.train.latest_checkpoint(str(damaged)) + ".data-00000-of-00001"
    os.truncate(data, 100)
    out = tmp_path / "out.jsonl"
    one_line_error(cli("--mode=decode", f"--model_dir={damaged}", f"--output={out}", cwd=tmp_path, stdin="你好\n"),
                   f"{data} is damaged")
    assert not out.exists()
    one_line_error(cli("--mode=export", f"--model_dir={damaged}", f"--export_dir={tmp_path / 'export'}", cwd=tmp_path),
                   f"{data} is damaged")
    assert files_under(tmp_path / "export") == []


@pytest.mark.slow
def test_train_refusals_leave_no_trace(tmp_path):
    one_line_error(cli("--mode=train", f"--data_dir={tmp_path / 'no_data'}", f"--model_dir={tmp_path / 'm'}",
                       "--flagfile=" + str(FLAGS / "smoke.flags"), cwd=tmp_path), "no_data")
    assert not (tmp_path / "m").exists()
    args = ["--mode=train", "--flagfile=" + str(FLAGS / "smoke.flags"), "--bucket_boundaries=", "--batch_size=8",
            "--max_steps=2", "--steps_per_eval=0", f"--model_dir={tmp_path / 'model'}"]
    assert cli(*args, f"--data_dir={FIXTURE}", cwd=tmp_path).returncode == 0
    other = tmp_path / "other"  # same size, two words swapped
    shutil.copytree(FIXTURE, other)
    lines = (other / "vocab.response.txt").read_text(encoding="utf-8").splitlines()
    lines[20], lines[21] = lines[21], lines[20]
    (other / "vocab.response.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = (tmp_path / "model" / "config.json").read_text()
    one_line_error(cli(*args[:-2], "--max_steps=4", f"--model_dir={tmp_path / 'model'}", f"--data_dir={other}",
                       cwd=tmp_path), "vocab.response.txt is not the one", "first difference at line 21")
    assert (tmp_path / "model" / "config.json").read_text() == before
    assert json.loads(before)["data_dir"] == str(FIXTURE)
