"""BUILD must list every module and test file: regenerate it with `python -m tools.build_file`."""

from tools.build_file import REPO, expected_build, python_files


def test_build_lists_every_module_and_test():
    build = (REPO / "BUILD").read_text(encoding="utf-8")
    for rel in python_files("ecm_tf") + python_files("tests"):
        assert f'"{rel.as_posix()}"' in build, f"BUILD misses {rel}: run python -m tools.build_file"
    assert build == expected_build(), "BUILD is stale: run python -m tools.build_file"
