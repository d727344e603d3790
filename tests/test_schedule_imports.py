"""The schedule package's import structure: no circle, nothing from a higher layer.

Every ``import`` statement in ``src/marsrelay/schedule`` is read with :mod:`ast` (including those
inside functions and under ``TYPE_CHECKING``, which a reader and a tool see as well), and the
graph of its modules is checked for cycles (issue 13: ``decompose`` and ``solvers`` imported
each other). Layers from the developers' guide: the schedule stage may import core, geometry,
scenario, contacts, links and config modules, never simulation and above.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import marsrelay.schedule

PACKAGE = Path(marsrelay.schedule.__file__).parent
HIGHER_LAYERS = ("simulation", "report", "pipeline", "sweep", "service", "cli")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Absolute names of the marsrelay modules ``path`` imports."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("marsrelay"))
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative import
                here = module_name(path).split(".")
                if path.name != "__init__.py":
                    here = here[:-1]
                base = ".".join([*here[:len(here) - node.level + 1], node.module])
            if base.startswith("marsrelay"):
                out.add(base)
                out.update(f"{base}.{a.name}" for a in node.names)
    return out


def schedule_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    names = {module_name(f) for f in files}
    return {module_name(f): imports_of(f) for f in files} | {"": names}


def test_schedule_modules_import_without_a_circle() -> None:
    graph = schedule_graph()
    names = graph.pop("")
    assert "marsrelay.schedule.decompose" in names and len(names) > 5
    edges = {m: {x for x in deps if x in names and x != m} for m, deps in graph.items()}
    # A package's __init__ re-exporting its submodules is not a circle; a submodule importing
    # its own package is.
    for m, deps in edges.items():
        parents = {d for d in deps if m.startswith(d + ".")}
        assert not parents, f"{m} imports its parent package {parents}"
    try:
        list(TopologicalSorter(edges).static_order())
    except CycleError as err:
        raise AssertionError(f"import circle in marsrelay.schedule: {err.args[1]}") from None


def test_schedule_imports_no_higher_layer() -> None:
    graph = schedule_graph()
    graph.pop("")
    for m, deps in graph.items():
        bad = sorted(d for d in deps if d.split(".")[1] in HIGHER_LAYERS)
        assert not bad, f"{m} imports a higher layer: {bad}"
