"""Writing and reading SavedModels the way TF Serving does (one writer for ECM, CERG/P&E2R and
the classifiers).

TF Serving (C++ SavedModelBundle) and `saved_model_cli run` load a SavedModel through the TF1
session path: the saver's restore op fills the variables, the main op initialises the lookup
tables, then Session::Run evaluates a signature. `tf.saved_model.load` (object-graph loading)
rebinds function captures instead, so a model that only works there is not servable.

The trap with Keras 3: a Keras variable wraps a tf.Variable, and a tf.Module that tracks Keras
layers (or Keras variables) gets Keras's TF1-style copies of every weight. The restore op then
writes the copies while the signatures read the originals, and the session path fails with
"Could not find variable ...". So a serving module tracks the underlying tf.Variables only
(`model_variables`), and holds the Keras model where tracking cannot see it (`Untracked`).

    module.weights = saved_models.model_variables(model)   # plain tf.Variables, saved once
    module._model = saved_models.Untracked(model)           # used by the traced functions
    path = saved_models.write(module, "runs/x/export", signatures)  # -> runs/x/export/1

`write` gives TF Serving's layout `base/N`: an `export_dir` whose last component is a number is
that version folder (it must not exist yet); any other `export_dir` is the base folder, and the
next free version number is written under it. The SavedModel is saved into a temporary folder
beside its final name and renamed into place when complete; an existing export is never touched.
One export at a time per base folder (a lock beside it, held while the SavedModel is written and
its version chosen and renamed in: a second export is refused naming the first one's pid); each
export first removes the temporary folders (`.N.xxxx.tmp`) that killed exports left in the base.
Folders are 0755 and files 0644, so a serving process running as another user can read them.
"""

import os
import re
import shutil
import tempfile

from ecm_tf import emotions as emotion_lib
from ecm_tf import io_utils
from ecm_tf.errors import InputError

DIR_MODE, FILE_MODE = 0o755, 0o644


class Untracked:
    """Holds an object out of sight of tf.Module's automatic dependency tracking."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


def model_variables(model):
    """The tf.Variables behind a Keras model's variables (each once, in model order)."""
    import tensorflow as tf

    out, seen = [], set()
    for v in model.variables:
        inner = getattr(v, "value", v)
        if not isinstance(inner, tf.Variable):
            raise TypeError(f"{v.name}: expected a Keras variable over a tf.Variable, got {type(inner).__name__}")
        if id(inner) not in seen:
            seen.add(id(inner))
            out.append(inner)
    return out


def string_table(keys, values, default):
    """A string -> int32 StaticHashTable (initialised by the SavedModel's main op under TF Serving)."""
    import tensorflow as tf

    init = tf.lookup.KeyValueTensorInitializer(tf.constant(list(keys), tf.string), tf.constant(list(values), tf.int32))
    return tf.lookup.StaticHashTable(init, default_value=default)


def emotion_table(extra=None):
    """Emotion names ("Sad", "sadness", any case) and ids ("2") -> id, plus `extra` {name: code};
    anything else -> -1."""
    keys = {**emotion_lib.lookup_keys(), **(extra or {})}
    return string_table(keys, keys.values(), -1)


def emotion_ids(table, names, ids=None):
    """Ids of a [B] string tensor of emotions (or the already looked-up `ids`); an unknown one fails
    the request with a clear message."""
    import tensorflow as tf

    if ids is None:
        ids = table.lookup(tf.strings.lower(tf.strings.strip(names)))  # [B]
    check = tf.debugging.assert_non_negative(ids, message="unknown emotion name (Like, Sad, Disgust, Angry, "
                                                          "Happy, Other, 0..5 or auto where exported with it)")
    with tf.control_dependencies([check]):  # everything that uses the ids runs after the check
        return tf.identity(ids)


def rows_or_empty(inputs, answer, empty):
    """The outputs of a signature whose inputs hold one row per post: `answer()` for a request of one
    row or more, `empty()` (the outputs with 0 rows, of the same dtypes) for a request of none.
    inputs: {name: tensor}, rows on the first axis; inputs of different row counts fail the request
    with a message naming them all."""
    import tensorflow as tf

    names = list(inputs)
    rows = [tf.shape(inputs[n])[0] for n in names]
    message = (f"inputs {', '.join(names[:-1])} and {names[-1]} must have the same number of rows "
               f"(one per post)")
    checks = [tf.debugging.assert_equal(rows[0], r, message=message) for r in rows[1:]]
    with tf.control_dependencies(checks):
        count = tf.identity(rows[0])
    return tf.cond(count > 0, answer, empty)


def version_dir(export_dir, flag="--export_dir"):
    """The version folder to write for `export_dir` (see the module docstring); InputError if taken."""
    export_dir = os.path.abspath(export_dir)
    if os.path.basename(export_dir).isdigit():
        if os.path.exists(export_dir):
            raise InputError(f"{flag}={export_dir}: already exists (TF Serving expects a new version folder)")
        return export_dir
    if os.path.exists(export_dir) and not os.path.isdir(export_dir):
        raise InputError(f"{flag}={export_dir}: is a file, not a folder")
    if os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
        raise InputError(f"{flag}={export_dir}: holds a SavedModel already; give its base folder or a new "
                         f"version folder (TF Serving layout base/N)")
    taken = [int(n) for n in os.listdir(export_dir) if n.isdigit()] if os.path.isdir(export_dir) else []
    return os.path.join(export_dir, str(max(taken, default=0) + 1))


def _set_modes(root):
    os.chmod(root, DIR_MODE)
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            os.chmod(os.path.join(folder, d), DIR_MODE)
        for f in files:
            os.chmod(os.path.join(folder, f), FILE_MODE)


def write(module, export_dir, signatures, extra_files=None, flag="--export_dir"):
    """Saves `module` with `signatures` as a new version folder; returns its path.

    Args:
      module: tf.Module tracking plain tf.Variables and lookup tables (see the module docstring).
      export_dir: str, a version folder `base/N` or a base folder (the next N is chosen).
      signatures: dict name -> concrete function (or tf.function with an input_signature).
      extra_files: dict file name -> writer(path) callable, for files stored beside the
        SavedModel in its version folder (a vocabulary, a JSON description).
      flag: str, named in errors.
    """
    import tensorflow as tf

    parent = check_writable(export_dir, flag)
    with io_utils.folder_lock(parent, flag):
        _remove_stale_temps(parent)
        target = version_dir(export_dir, flag)  # chosen again under the lock
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=parent)
        try:
            tf.saved_model.save(module, tmp, signatures=signatures)
            for name, writer in (extra_files or {}).items():
                writer(os.path.join(tmp, name))
            _set_modes(tmp)
            io_utils.fault_point("export_before_rename")
            if os.path.exists(target):  # written by something that took no lock
                raise InputError(f"{flag}={target}: written by another process meanwhile; nothing replaced")
            os.rename(tmp, target)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp)
    return target


_TEMP_RE = re.compile(r"^\.\d+\..+\.tmp$")


def _remove_stale_temps(base):
    """Removes the `.N.xxxx.tmp` folders of killed exports from `base` (called holding its lock)."""
    if os.path.isdir(base):
        for name in os.listdir(base):
            if _TEMP_RE.match(name) and os.path.isdir(os.path.join(base, name)):
                shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def check_writable(export_dir, flag="--export_dir"):
    """Checks `export_dir` before any work (version folder free, base writable); returns the base."""
    base = os.path.dirname(version_dir(export_dir, flag))
    io_utils.check_output_folder(base, flag)
    return base


def latest_version(base):
    """`base` itself when it holds saved_model.pb, else its highest-numbered version folder (or None)."""
    if os.path.isfile(os.path.join(base, "saved_model.pb")):
        return base
    if not os.path.isdir(base):
        return None
    versions = sorted((int(n) for n in os.listdir(base)
                       if n.isdigit() and os.path.isfile(os.path.join(base, n, "saved_model.pb"))))
    return os.path.join(base, str(versions[-1])) if versions else None


def size_mb(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files) / 2 ** 20


class SessionModel:
    """A SavedModel loaded as TF Serving loads it: TF1 loader (restore op + main op) in a Session.

        model = SessionModel("runs/builtin/export/1")
        model.run("serving_default", posts=["你好"], emotions=["Happy"])  # -> {"responses": ..., "scores": ...}
    """

    def __init__(self, export_dir, tags=("serve",)):
        import tensorflow as tf

        from tensorflow.python.util import deprecation  # the TF1 loader is deprecated, and is what TF Serving uses

        self._graph = tf.Graph()
        self._session = tf.compat.v1.Session(graph=self._graph)
        with self._graph.as_default(), deprecation.silence():
            meta = tf.compat.v1.saved_model.loader.load(self._session, list(tags), export_dir)
        self.signatures = dict(meta.signature_def)

    def run(self, signature="serving_default", **inputs):
        """Numpy outputs of `signature` for keyword inputs (named as in the signature)."""
        sig = self.signatures[signature]
        unknown = set(inputs) - set(sig.inputs)
        if unknown:
            raise KeyError(f"{signature}: no inputs {sorted(unknown)}; expected {sorted(sig.inputs)}")
        feeds = {sig.inputs[k].name: v for k, v in inputs.items()}
        names = sorted(sig.outputs)
        values = self._session.run([sig.outputs[k].name for k in names], feed_dict=feeds)
        return dict(zip(names, values))

    def close(self):
        self._session.close()
