"""The command line: dispatch, one-line errors, flag files."""

from conftest import REPO, run_cli

from ecm_tf import flags as ecm_flags


def _one_line_error(proc):
    assert proc.returncode == 2, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_unknown_mode_is_one_line():
    assert "--mode=foo" in _one_line_error(run_cli("--mode=foo"))


def test_unknown_flag_and_missing_flagfile_are_one_line():
    assert "nonsense" in _one_line_error(run_cli("--nonsense=1"))
    assert "nope.flags" in _one_line_error(run_cli("--flagfile=nope.flags"))


def test_stray_argument_is_rejected():
    assert "unexpected arguments" in _one_line_error(run_cli("--mode=prep", "extra"))


def test_every_mode_has_a_module_file():
    for mode, target in ecm_flags.MODES.items():
        module, _, function = target.partition(":")
        assert (REPO / (module.replace(".", "/") + ".py")).exists(), f"--mode={mode}: {module} missing"
        assert function in (REPO / (module.replace(".", "/") + ".py")).read_text(encoding="utf-8"), target


def test_flag_files_only_name_defined_flags():
    names = set(ecm_flags.defined_names())
    for path in sorted((REPO / "flags").glob("*.flags")):
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            assert line.startswith("--"), f"{path.name}:{i}"
            name = line[2:].split("=", 1)[0]
            if name.startswith("no") and name[2:] in names:
                name = name[2:]
            assert name in names or name == "flagfile", f"{path.name}:{i}: unknown flag {name}"
