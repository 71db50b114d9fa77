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


def run_cli(*args, cwd=None, stdin=None, timeout=600):
    """Runs `python -m ecm_tf.main ARGS` and returns the CompletedProcess (text mode)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "ecm_tf.main", *args], cwd=cwd or REPO, input=stdin,
        capture_output=True, text=True, timeout=timeout, env=env)
