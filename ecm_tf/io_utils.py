"""Atomic file output: write to a temporary name in the same folder, then rename."""

import contextlib
import json
import os
import sys
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temp path beside `path`; renames it onto `path` only if the block succeeds."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


@contextlib.contextmanager
def folder_lock(folder, flag):
    """Holds an exclusive lock on `folder` (a hidden `.NAME.lock` file beside it, fcntl.flock: freed
    by the kernel when the process ends, even by kill -9); a second writer gets InputError at once."""
    import fcntl

    from ecm_tf.errors import InputError

    folder = os.path.abspath(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    path = os.path.join(parent, "." + os.path.basename(folder) + ".lock")
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise InputError(f"{flag}={folder}: being written by {holder}; wait for it or use another folder") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_open(path, mode="w", encoding="utf-8"):
    """Like open(path, mode) for writing, but the file appears only when complete."""
    with atomic_path(path) as tmp:
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with open(tmp, mode, **kwargs) as f:
            yield f


def write_json(path, obj):
    with atomic_open(path) as f:
        json.dump(obj, f, ensure_ascii=False, indent=2, sort_keys=True)
        f.write("\n")


def read_text(path):
    """A whole UTF-8 file as str (BOM dropped); InputError naming file:line on invalid UTF-8."""
    from ecm_tf.errors import InputError

    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: invalid UTF-8 ({e.reason} at byte {e.start})") from None
    return text.lstrip("\ufeff")


def read_json(path):
    """A JSON file; InputError naming file:line when it is missing or malformed."""
    from ecm_tf.errors import InputError

    try:
        return json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}: malformed JSON ({e.msg}, column {e.colno})") from None


def read_lines(path):
    """Reads a UTF-8 text file as lines, with an error naming file:line on invalid UTF-8."""
    lines = read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def stdin(where="--input", hint="give --input=FILE or pipe the posts in"):
    """sys.stdin for reading, or InputError naming `where` when it is closed (`<&-`) or absent."""
    from ecm_tf.errors import InputError

    if sys.stdin is None or sys.stdin.closed:
        raise InputError(f"{where}: standard input is closed; {hint}")
    return sys.stdin
