"""A quiet TensorFlow start-up on a CPU machine, without hiding real TensorFlow messages.

Importing TensorFlow 2.21 and creating its devices prints, on a machine without a GPU, lines that
look like failures but are not: "Could not find cuda drivers on your machine", "failed call to
cuInit: ... UNKNOWN ERROR (303)", the oneDNN notice, absl's "All log messages before
absl::InitializeLog()". They come from C++ code writing to file descriptor 2 before TensorFlow's
own log level (TF_CPP_MIN_LOG_LEVEL) applies, so no setting removes them.

`install()` (called by the command line before it imports any mode) makes the first `import
tensorflow`, wherever it happens (a mode module at the top, prep only once its inputs are known
good), run with descriptor 2 sent to a temporary file, together with the device set-up. Then the
captured lines are written to stderr, except those known ones; and the cuInit failure is dropped
only when the CUDA driver was not found at all (a CPU machine), not on a machine with a GPU whose
driver fails. ECM_TF_SHOW_STARTUP=1 shows everything.
"""

import contextlib
import importlib.abc
import importlib.machinery
import os
import re
import sys
import tempfile

_NOISE = [re.compile(p) for p in (
    r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$",
    r"^I0000 \S+ +\d+ port\.cc:\d+\] oneDNN custom operations are on\.",
    r"^I0000 \S+ +\d+ cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized",
    r"^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$",
)]
_NO_DRIVER = re.compile(r"^I0000 \S+ +\d+ cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine")
_CUINIT = re.compile(r"^E0000 \S+ +\d+ cuda_platform\.cc:\d+\] failed call to cuInit: .*UNKNOWN ERROR \(303\)")


def shown_lines(lines):
    """The captured start-up lines worth showing (see the module docstring)."""
    no_driver = any(_NO_DRIVER.match(line) for line in lines)
    return [line for line in lines
            if not any(p.match(line) for p in _NOISE)
            and not _NO_DRIVER.match(line)
            and not (no_driver and _CUINIT.match(line))]


@contextlib.contextmanager
def quiet_stderr():
    """Sends descriptor 2 to a temporary file for the block, then replays the lines worth showing."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode("utf-8", "replace").splitlines()
            for line in shown_lines(lines):
                sys.stderr.write(line + "\n")
            sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with quiet_stderr():
            self._loader.exec_module(module)
            module.config.list_physical_devices()  # device (and CUDA) set-up happens here, not at the first op


class _FirstTensorflowImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _matplotlib_config():
    """Keras imports matplotlib, which warns on every run of a user whose home is not writable (a
    service account): its settings folder then goes to this user's cache folder instead."""
    if "MPLCONFIGDIR" in os.environ:
        return
    from ecm_tf import io_utils

    config = os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config"),
                          "matplotlib")
    existing = io_utils.nearest_existing(config)
    if os.path.isdir(existing) and os.access(existing, os.W_OK | os.X_OK):
        return
    folder = io_utils.user_cache_dir("matplotlib")
    if folder:
        os.environ["MPLCONFIGDIR"] = folder


def install():
    """Makes the first import of TensorFlow in this process quiet (no-op if it already happened)."""
    _matplotlib_config()
    if "tensorflow" in sys.modules or os.environ.get("ECM_TF_SHOW_STARTUP") == "1":
        return
    if not any(isinstance(f, _FirstTensorflowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _FirstTensorflowImport())
