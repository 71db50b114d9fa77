"""Safe file output: atomic files and folders (a temporary name beside the target, then a rename),
one writer per folder (`folder_lock`), output paths checked before the work (`check_output_file`,
`check_output_folder`). Every failure here is an InputError naming the path (or flag), never a
traceback.
"""

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile

# Tests set this environment variable to a fault point's name: the process kills itself there
# (SIGKILL, as `kill -9` would), to check that an interrupted write leaves nothing half-written.
FAULT_ENV = "ECM_TF_FAULT"


def fault_point(name):
    """Kills this process with SIGKILL when the environment variable FAULT_ENV is `name`, or stops it
    (SIGSTOP, holding its locks, until the test kills it) when it is `name:stop`."""
    value = os.environ.get(FAULT_ENV)
    if value in (name, name + ":stop"):
        sys.stdout.flush()
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGSTOP if value.endswith(":stop") else signal.SIGKILL)


def user_cache_dir(name=""):
    """A folder of this user's for caches (jieba's dictionary, matplotlib's settings), or None:
    $XDG_CACHE_HOME/ecm_tf or ~/.cache/ecm_tf, else TMPDIR/ecm_tf-UID (a user without a writable
    home). Never a shared path another user may own."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    home_cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for base in (os.path.join(home_cache, "ecm_tf"), os.path.join(tempfile.gettempdir(), f"ecm_tf-{uid}")):
        folder = os.path.join(base, name) if name else base
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK) and (uid is None or os.stat(base).st_uid == uid):
            return folder
    return None


def _why(e):
    return e.strerror or type(e).__name__


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temp path beside `path`; renames it onto `path` only if the block succeeds."""
    from ecm_tf.errors import InputError

    path = os.fspath(path)
    check_output_file(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({_why(e)})") from None
    os.close(fd)
    try:
        yield tmp
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual mode
            os.replace(tmp, path)
        except OSError as e:
            raise InputError(f"{path}: cannot write ({_why(e)})") from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def nearest_existing(path):
    """The deepest existing folder on the way to `path` (itself when it exists)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _check_creatable(path, where):
    from ecm_tf.errors import InputError

    base = nearest_existing(os.path.dirname(os.path.abspath(path)))
    if not os.path.isdir(base):
        raise InputError(f"{where}: {base} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{where}: cannot write in {base} (permission denied)")


def check_output_file(path, flag=None):
    """InputError (naming `flag`, else the path) unless `path` can be written as a file: not a folder,
    its folder writable or creatable. Called before the work that produces the file."""
    from ecm_tf.errors import InputError

    where = f"{flag}={path}" if flag else str(path)
    if os.path.isdir(path):
        raise InputError(f"{where}: is a folder; expected a file")
    _check_creatable(path, where)  # the file is replaced by a rename: its folder must be writable


def check_output_folder(path, flag):
    """InputError naming `flag` unless `path` is (or can be made) a folder this process writes in."""
    from ecm_tf.errors import InputError

    where = f"{flag}={path}"
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError(f"{where}: is a file, not a folder")
    if os.path.isdir(path):
        if not os.access(path, os.W_OK | os.X_OK):
            raise InputError(f"{where}: cannot write in it (permission denied)")
        return
    _check_creatable(path, where)


def _exchange(a, b):
    """Swaps two existing paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def temp_siblings(path):
    """The hidden temporary folders `atomic_folder` makes beside `path` (left by a killed run)."""
    path = os.path.abspath(path)
    parent, prefix = os.path.dirname(path), "." + os.path.basename(path) + "."
    if not os.path.isdir(parent):
        return []
    return [os.path.join(parent, n) for n in sorted(os.listdir(parent))
            if n.startswith(prefix) and n.endswith(".tmp") and os.path.isdir(os.path.join(parent, n))]


def remove_stale_temps(path):
    """Removes the temporary folders of earlier, killed writers of `path`; call it holding the lock."""
    for tmp in temp_siblings(path):
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path, flag):
    """Yields a fresh temporary folder beside `path`; when the block succeeds it takes the place of
    `path` in one rename (an existing folder is swapped out whole and removed), so readers see the
    old set of files or the new one, never a mix. Hold `folder_lock(path)` around it."""
    from ecm_tf.errors import InputError

    path = os.path.abspath(path)
    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=parent)
    except OSError as e:
        raise InputError(f"{flag}={path}: cannot write ({_why(e)})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders; give the usual mode
        if os.path.isdir(path) and _exchange(tmp, path):
            fault_point("folder_swapped")
        elif os.path.isdir(path):  # no atomic exchange here: move the old folder aside first
            old = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=parent)
            os.rename(path, os.path.join(old, "old"))
            os.rename(tmp, path)
            tmp = old
        else:
            os.rename(tmp, path)
    except OSError as e:
        raise InputError(f"{flag}={path}: cannot write ({_why(e)})") from None
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def lock_path(folder):
    folder = os.path.abspath(folder)
    return os.path.join(os.path.dirname(folder), "." + os.path.basename(folder) + ".lock")


@contextlib.contextmanager
def folder_lock(folder, flag):
    """Holds an exclusive lock on `folder` (a hidden `.NAME.lock` file beside it, fcntl.flock: freed
    by the kernel when the process ends, even by kill -9); a second writer gets InputError at once."""
    import fcntl

    from ecm_tf.errors import InputError

    folder = os.path.abspath(folder)
    path = lock_path(folder)
    try:
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        f = open(path, "a+")
    except OSError as e:
        raise InputError(f"{flag}={folder}: cannot write the lock file {path} ({_why(e)})") from None
    with f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise InputError(f"{flag}={folder}: being written by {holder}; wait for it or use another folder") from None
        # A lock file left by a killed process holds its pid but no lock: the kernel freed it.
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
    except RecursionError:
        raise InputError(f"{path}: JSON nested too deeply (no corpus or config nests more than a few levels)") from None


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
