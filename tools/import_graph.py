"""The import graph of ecm_tf and its layer rule: `python -m tools.import_graph [--edges]`.

Every `import ecm_tf...` counts, at module level or inside a function (a lazy import is still a
dependency). Each module has a layer (LAYERS, first matching prefix wins); a module may import only
from its own layer or a lower one, and the graph has no cycle. tests/test_architecture.py checks it.
"""

import ast
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]

# (module prefix, layer). Lower layers never import higher ones:
#   0 core -> 1 data -> 2 building blocks (layers, samplers, training utilities, classifiers) ->
#   3 model families and their registry -> 4 tasks (the --mode modules) -> 5 command line.
LAYERS = (
    ("ecm_tf.main", 5), ("ecm_tf.flags", 5),
    ("ecm_tf.decoding", 4), ("ecm_tf.evaluation", 4), ("ecm_tf.serving", 4),
    ("ecm_tf.classifier.train", 4), ("ecm_tf.classifier.classify", 4), ("ecm_tf.classifier.annotate", 4),
    ("ecm_tf.classifier.interaction", 4),
    ("ecm_tf.models", 3),
    ("ecm_tf.layers", 2), ("ecm_tf.samplers", 2), ("ecm_tf.training", 2), ("ecm_tf.classifier", 2),
    ("ecm_tf.data", 1),
    ("ecm_tf", 0),
)
LAYER_NAMES = {0: "core", 1: "data", 2: "blocks", 3: "models", 4: "tasks", 5: "cli"}


def modules():
    """{dotted name: path} of every module of the package."""
    out = {}
    for path in sorted((REPO / "ecm_tf").rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer(name):
    for prefix, number in LAYERS:
        if name == prefix or name.startswith(prefix + "."):
            return number
    raise KeyError(name)


def imports(path, known):
    """Sorted ecm_tf modules imported by `path` (anywhere in the file). `from pkg import mod` counts
    as an edge to pkg.mod only (the package's __init__ holds a docstring)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
            names = [n for n in names if n in known] or [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name.startswith("ecm_tf"):
                found.add(name)
    return sorted(found)


def graph():
    known = modules()
    return {name: [m for m in imports(path, known) if m != name and m != "ecm_tf"] for name, path in known.items()}


def upward_edges(edges):
    return [(a, b) for a, deps in edges.items() for b in deps if layer(b) > layer(a)]


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in edges:
        if v not in index:
            visit(v)
    return out


def main(argv):
    edges = graph()
    known = modules()
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in known.values())
    print(f"{len(known)} modules, {lines} lines, {sum(map(len, edges.values()))} import edges")
    up = upward_edges(edges)
    print(f"{len(up)} upward edges" + "".join(
        f"\n  {a} ({LAYER_NAMES[layer(a)]}) -> {b} ({LAYER_NAMES[layer(b)]})" for a, b in up))
    cyc = cycles(edges)
    print(f"{len(cyc)} cycles" + "".join(f"\n  {' <-> '.join(c)}" for c in cyc))
    if "--edges" in argv:
        for a, deps in edges.items():
            print(a, "->", ", ".join(deps))
    return 1 if up or cyc else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
