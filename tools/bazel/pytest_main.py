"""The main of every generated py_test: `bazel test` runs pytest on the test file given as argument."""

import os
import sys

import pytest

if __name__ == "__main__":
    junit = [f"--junitxml={os.environ['XML_OUTPUT_FILE']}"] if os.environ.get("XML_OUTPUT_FILE") else []
    sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", *junit, *sys.argv[1:]]))
