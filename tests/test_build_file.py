"""The Bazel BUILD files list every module and test file (regenerate them with `python -m tools.build_file`),
and Bazel builds and tests with them, offline (WORKSPACE, tools/bazel/offline.bzl)."""

import shutil
import subprocess
import tempfile
import time

import pytest

from tools.build_file import REPO, expected_builds, python_files

# Fast test targets `bazel test` runs: no training, no TensorFlow graph work.
BAZEL_TESTS = ("//tests:test_architecture", "//tests:test_core", "//tests:test_data_vocab")


def test_build_lists_every_module_and_test():
    builds = expected_builds()
    for rel in python_files("ecm_tf") + python_files("bench") + python_files("tools") + python_files("tests"):
        build = rel.parent / "BUILD"
        assert build in builds and f'"{rel.name}"' in builds[build], f"{build} misses {rel}"
    for rel, text in builds.items():
        assert (REPO / rel).exists() and (REPO / rel).read_text(encoding="utf-8") == text, (
            f"{rel} is stale: run python -m tools.build_file")


@pytest.mark.slow
def test_bazel_builds_and_tests_offline():
    bazel = shutil.which("bazel")
    if bazel is None:
        pytest.skip("bazel is not on PATH (tools/system_packages.sh installs Debian's bazel-bootstrap)")
    if not (REPO / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv/bin/python: Bazel's Python toolchain is the project's venv")
    with tempfile.TemporaryDirectory(prefix="ecm_bazel_") as root:
        startup = [bazel, f"--output_user_root={root}", "--batch"]
        try:
            for command in (["build", "//ecm_tf/..."], ["test", *BAZEL_TESTS]):
                start = time.monotonic()
                run = subprocess.run([*startup, *command, "--jobs=2", "--symlink_prefix=/"], cwd=REPO, capture_output=True, text=True,
                                     timeout=900)
                print(f"bazel {command[0]}: {time.monotonic() - start:.1f} s")
                assert run.returncode == 0, run.stderr[-4000:]
        finally:
            subprocess.run([*startup, "clean", "--expunge"], cwd=REPO, capture_output=True, timeout=300)
            subprocess.run(["chmod", "-R", "u+w", root], capture_output=True)
