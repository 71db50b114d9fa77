"""The package's structure: layers without upward imports or cycles, no family switch outside the
model families, and config.json read once per command."""

import ast
import builtins
import json

import pytest

from conftest import REPO
from ecm_tf import flags as ecm_flags
from ecm_tf.decoding import decode as decode_lib
from ecm_tf.models import registry
from ecm_tf.models.family import Family
from tools import import_graph

FAMILY_NAMES = set(registry.NAMES)


def test_imports_only_go_down_the_layers_and_never_cycle():
    edges = import_graph.graph()
    assert len(edges) > 80  # the whole package was read
    assert import_graph.upward_edges(edges) == []
    assert import_graph.cycles(edges) == []
    # The check itself: an edge from the data layer up to a model family is reported.
    assert import_graph.upward_edges({"ecm_tf.data.vocab": ["ecm_tf.models.registry"]})


def test_no_module_outside_the_families_switches_on_a_family_name():
    offenders = []
    for path in sorted((REPO / "ecm_tf").rglob("*.py")):
        rel = path.relative_to(REPO)
        if rel.parts[1] == "models" or rel.as_posix() == "ecm_tf/flags.py":  # families, registry; --model's default
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                names = [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                if FAMILY_NAMES & set(names) and "ecm" not in names:  # "ecm" is also a corpus format
                    offenders.append(f"{rel}:{node.lineno}")
            elif isinstance(node, ast.Constant) and node.value in FAMILY_NAMES - {"ecm"}:
                offenders.append(f"{rel}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_every_family_answers_the_contract():
    for name in registry.NAMES:
        family = registry.get(name)
        assert family.name == name and family.title
        for method in ("prepare_post", "load", "train", "export"):
            assert getattr(type(family), method) is not getattr(Family, method), (name, method)

    class Incomplete(Family):  # no export: the contract refuses it at construction
        def prepare_post(self, settings, text, where):
            return text

        def load(self, cfg, model_dir, saved):
            return None

        def train(self, cfg):
            return None

    with pytest.raises(TypeError, match="export"):
        Incomplete()


def test_decode_reads_config_json_once(tmp_path, monkeypatch):
    from test_decoding_decode import make_model_dir

    make_model_dir(tmp_path / "model")
    posts = tmp_path / "posts.txt"
    posts.write_text("今天天气真好\n", encoding="utf-8")
    cfg = ecm_flags.defaults().replace(model_dir=str(tmp_path / "model"), input=str(posts),
                                       output=str(tmp_path / "out.jsonl"), emotion="Happy")
    reads = []
    real_open = builtins.open

    def counting_open(file, mode="r", *args, **kwargs):
        if str(file).endswith("model/config.json") and "r" in mode:
            reads.append(str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    decode_lib.run(cfg)
    monkeypatch.setattr(builtins, "open", real_open)
    assert len(reads) == 1, reads
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["emotion"] == "Happy"


def test_only_the_command_line_reads_flags():
    """Library code gets its settings as arguments (a Config or values), never from parsed absl flags."""
    readers_of_flags = []
    for path in sorted((REPO / "ecm_tf").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "absl" and any(a.name == "flags" for a in node.names):
                readers_of_flags.append(rel)
    assert sorted(set(readers_of_flags)) == ["ecm_tf/flags.py", "ecm_tf/main.py"]
