"""The README's commands run as written, and print what the README shows.

The quick start (prep + train on the built-in corpus) runs first, in a fresh folder, with the
installed package; then every `$ ` command of the README, and then of the docs pages in DOCS (the
README's reference pages that show commands on the quick-start model), that works on its
`runs/builtin/` files and needs nothing outside this machine (no ../shared data, Docker or server). Each must exit as
the README implies (2 when it shows an `error:` line, else 0), and every output line the README
shows must be printed, except lines with timings (`s`, `steps/s`, `ETA`) and `...`. A change that
alters what a user sees fails here until the README shows the new output.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow  # trains the quick-start model (5 min on 2 cores)
README = REPO / "README.md"
DOCS = (REPO / "docs" / "serving.md",)  # checked after the README, in this order
VOLATILE = re.compile(r"\d s\b|\d s,|steps/s|pairs/s|ETA|\bin \d+(\.\d+)?s\b")
NOT_HERE = ("../shared", "docker", "curl", "localhost", "bench", "runs/lccc", "runs/mini", "runs/cerg", "runs/s2s",
            "runs/estc", "clf_bilstm --", "$NLPCC",
            "runs/eval_demo")  # eval_demo: made by commands docs/serving.md shows without `$ `


def fenced_blocks(text):
    """Lists of lines of the ``` blocks of a Markdown text."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def shown_commands(blocks):
    """(command, output lines shown after it) for each `$ ` line (with `\\` continuations)."""
    out = []
    for block in blocks:
        i = 0
        while i < len(block):
            if not block[i].startswith("$ "):
                i += 1
                continue
            command = block[i][2:]
            while command.endswith("\\") and i + 1 < len(block):
                i += 1
                command = command[:-1] + " " + block[i].strip()
            i += 1
            shown = []
            while i < len(block) and not block[i].startswith("$ "):
                shown.append(block[i])
                i += 1
            out.append((command, [l for l in shown if l.strip()]))
    return out


def quick_start_commands(blocks):
    """The README's first command line (the quick start), minus the venv creation and install."""
    line = next(l for b in blocks for l in b if l.startswith("python3 -m venv .venv") and "ecm_tf.main" in l)
    return [part.strip() for part in line.split("&&") if "ecm_tf.main" in part]


def _run(command, cwd):
    bin_dir = pathlib.Path(sys.executable).parent
    command = command.replace(".venv/bin/saved_model_cli", str(bin_dir / "saved_model_cli"))
    command = command.replace(".venv/bin/python", sys.executable)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
# Measured figures (losses, perplexities, scores, sizes) move in their last digits from one CPU to
# another (oneDNN picks its kernels by instruction set) and between runs of the multi-threaded
# training; a shown line matches a printed one whose words are the same and whose numbers are within
# this relative distance (counts, without a decimal point, must be equal). The words (responses,
# labels, messages) must be the same.
NUMBER_TOLERANCE = 0.02


# The quick-start model is not bit-reproducible from run to run (multi-threaded float sums), and
# where two beam candidates nearly tie, a response changes: a generated response is checked for its
# place (the emotion label, the auto choice, a byte string, a JSON line's "response" fields), not its
# words (a JSON line's scores within NUMBER_TOLERANCE); the evaluation table's
# figures, which come from the generated responses, within TABLE_TOLERANCE (distinct-2 over 100
# responses measured 0.113 and 0.135 in two runs of the same code).
RESPONSE = re.compile(r"^(Like|Sad|Disgust|Angry|Happy|Other)\s+\S.*?(\(auto: .*\))?$")
JSON_RESPONSE = re.compile(r'("response": ")[^"]*(")')  # a decoded JSON line's responses
TABLE_TOLERANCE = 0.25


def _same_up_to_numbers(shown, printed):
    response = RESPONSE.match(shown)
    if response:
        other = RESPONSE.match(printed)
        return bool(other) and other.group(1) == response.group(1) and other.group(2) == response.group(2)
    if shown.startswith(("[[b'", "[b'", "b'")):
        return printed.startswith(shown.split("'")[0] + "'")
    shown, printed = JSON_RESPONSE.sub(r"\1#\2", shown), JSON_RESPONSE.sub(r"\1#\2", printed)
    if NUMBER.sub("#", shown) != NUMBER.sub("#", printed):
        return False
    tolerance = TABLE_TOLERANCE if shown.startswith("|") else NUMBER_TOLERANCE
    pairs = zip(NUMBER.findall(shown), NUMBER.findall(printed))
    return all(a == b or ("." in a and "." in b and abs(float(a) - float(b))
                          <= tolerance * max(abs(float(a)), abs(float(b))))
               for a, b in pairs)  # counts (steps, pairs, shards) exactly


def _check_shown(proc, shown, where, cwd):
    printed = {l.strip() for l in (proc.stdout + "\n" + proc.stderr).replace(str(cwd), "/work/main").splitlines()}
    for line in shown:
        if line.strip() == "..." or VOLATILE.search(line) or line.startswith("#"):
            continue
        if "..." in line:  # an abbreviated line: what comes before the "..." starts a printed line
            head = line.split("...")[0].strip()

            def masked(text):
                return NUMBER.sub("#", JSON_RESPONSE.sub(r"\1#\2", text))

            assert any(masked(p).startswith(masked(head)) for p in printed), \
                f"{where}: README shows {line!r}, the command printed:\n{proc.stdout[-3000:]}"
            continue
        assert any(_same_up_to_numbers(line.strip(), p) for p in printed), \
            f"{where}: README shows {line!r}, the command printed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    """(folder laid out like a fresh clone after the quick start, what the quick start printed)."""
    work = tmp_path_factory.mktemp("readme")
    os.symlink(REPO / "flags", work / "flags")
    blocks = fenced_blocks(README.read_text(encoding="utf-8"))
    stdout, stderr = "", ""
    for command in quick_start_commands(blocks):
        proc = _run(command, work)
        assert proc.returncode == 0, f"quick start: {command}\n{proc.stderr[-3000:]}"
        stdout, stderr = stdout + proc.stdout, stderr + proc.stderr
    return work, subprocess.CompletedProcess([], 0, stdout, stderr)


def test_quick_start_prints_what_the_readme_shows(quick_start):
    work, printed = quick_start
    blocks = fenced_blocks(README.read_text(encoding="utf-8"))
    first = next(i for i, b in enumerate(blocks) if any(l.startswith("python3 -m venv .venv") for l in b))
    assert (work / "runs" / "builtin" / "ecm" / "ckpt-2000.index").exists()
    _check_shown(printed, blocks[first + 1], "quick start", work)  # the output block under the command


def checked_commands(page):
    """(command, output lines shown) of the `$ ` lines of a page that run here (not NOT_HERE)."""
    return [(c, s) for c, s in shown_commands(fenced_blocks(page.read_text(encoding="utf-8")))
            if not any(x in c for x in NOT_HERE)]


def test_readme_commands_run_as_written(quick_start):
    workdir = quick_start[0]
    pages = [(README, checked_commands(README))] + [(page, checked_commands(page)) for page in DOCS]
    assert len(pages[0][1]) >= 6, pages[0][1]
    assert sum(len(commands) for _, commands in pages) >= 11, pages
    for page, commands in pages:
        for command, shown in commands:
            proc = _run(command, workdir)
            expected = 2 if any(l.startswith("error:") for l in shown) else 0
            where = f"{page.relative_to(REPO)}: $ {command}"
            assert proc.returncode == expected, f"{where}\n{proc.stderr[-3000:]}"
            _check_shown(proc, shown, where, workdir)
