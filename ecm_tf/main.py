"""Command line: `python -m ecm_tf.main --mode=MODE [--flagfile=flags/X.flags] [...]`.

Each mode lives in its own module and exposes `run(cfg)` (or the function named after a colon;
the table is flags.MODES); this file only dispatches, and composes the two modes that take a part
from a higher layer (prep gets its labeller from classifier/labeller.py; train goes to the family's trainer).
User errors (InputError, bad flags) print one line and exit with status 2.
"""

import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from ecm_tf import startup  # noqa: E402

startup.install()  # the first `import tensorflow`, wherever it happens, without the CPU-machine CUDA noise

from absl import app  # noqa: E402
from absl import flags as absl_flags  # noqa: E402
from absl import logging  # noqa: E402

from ecm_tf import flags as ecm_flags  # noqa: E402  (defines the flags and the MODES table)
from ecm_tf.errors import InputError  # noqa: E402


def run_prep(cfg):
    """--mode=prep: data/prep.py with the labeller of --label_source."""
    from ecm_tf.classifier import labeller
    from ecm_tf.data import prep

    prep.run(cfg, labeller.for_config(cfg))


def _fail(message):
    sys.stderr.write(f"error: {message}\n")
    sys.exit(2)


def main(argv):
    if len(argv) > 1:
        _fail(f"unexpected arguments {' '.join(argv[1:])!r} (flags take the form --name=value)")
    cfg = ecm_flags.settings()
    module_name, _, function = ecm_flags.MODES[cfg.mode].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name and e.name.startswith("ecm_tf"):
            _fail(f"--mode={cfg.mode} is not available in this version ({e.name} missing)")
        raise
    try:
        if cfg.mode == "prep":
            run_prep(cfg)
        else:
            getattr(module, function or "run")(cfg)
    except InputError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted")


def _flags_parser(argv):
    try:
        return absl_flags.FLAGS(argv)
    except absl_flags.Error as e:
        _fail(str(e).splitlines()[0])


def run_main():
    logging.set_verbosity(logging.WARNING)
    app.run(main, flags_parser=_flags_parser)


if __name__ == "__main__":
    run_main()
