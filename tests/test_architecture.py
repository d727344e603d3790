"""The structure drawn from the imports (docs/architecture.md): every import of a marsrelay
module, module-level or inside a function, goes to the same layer or a lower one, and no
group of modules imports itself in a circle. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "marsrelay"

#: Layers, lowest first: a module may import from its own layer and the ones before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("marsrelay", "marsrelay.errors", "marsrelay.io", "marsrelay.constants",
     "marsrelay.progress"),
    ("marsrelay.geometry",),
    ("marsrelay.config",),
    ("marsrelay.scenario",),
    ("marsrelay.rundir",),
    ("marsrelay.contacts",),
    ("marsrelay.links",),
    ("marsrelay.schedule",),
    ("marsrelay.simulation",),
    ("marsrelay.report",),
    ("marsrelay.pipeline",),
    ("marsrelay.sweep",),
    ("marsrelay.service",),
    ("marsrelay.cli",),
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    best, found = -1, -1
    for k, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), k
    assert found >= 0, f"{module} is in no layer: add it to LAYERS and docs/architecture.md"
    return found


def _imports() -> dict[str, set[str]]:
    """marsrelay module -> the marsrelay modules it imports (anywhere in its body)."""
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                    + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                           for a in node.names]
            for t in targets:
                if t.startswith("marsrelay"):
                    while t not in modules and "." in t:
                        t = t.rpartition(".")[0]
                    if t != name:
                        graph[name].add(t)
    return graph


def test_no_import_goes_up_a_layer() -> None:
    upward = sorted(
        f"{src} (layer {_layer(src)}) imports {dst} (layer {_layer(dst)})"
        for src, dsts in _imports().items() for dst in dsts if _layer(dst) > _layer(src))
    assert not upward, "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def _without_package_inits(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's ``__init__`` re-exports its modules; an import of the package by one of its
    own modules would be a circle, imports of the package from outside are not."""
    inits = {m for m in graph if (SRC.parent / m.replace(".", "/") / "__init__.py").is_file()}
    return {m: {d for d in ds if not (m in inits and d.startswith(m + "."))}
            for m, ds in graph.items()}


def test_no_import_circle() -> None:
    cycles = _cycles(_without_package_inits(_imports()))
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("text", ["except ImportError", "importlib.import_module"])
def test_no_hidden_imports(text: str) -> None:
    found = [f"{p.relative_to(SRC)}:{k}" for p in SRC.rglob("*.py")
             for k, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if text in line]
    assert not found, found


def test_outputs_doc_lists_every_table_and_column() -> None:
    """docs/outputs.md holds the schema's table section as generated (no stale column)."""
    from marsrelay.rundir.schema import outputs_markdown

    doc = (SRC.parents[1] / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert outputs_markdown().strip() in doc, "regenerate: python -m marsrelay.rundir.schema"
