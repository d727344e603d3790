"""Turn the command line's inputs (run directories, scenario files, built-in scenario names)
into run directories, running the pipeline for scenarios.

A scenario is run by ``marsrelay.pipeline.run_pipeline(scenario, out_dir)``; while that does
not exist, by the contacts stage alone (whatever it offers), and at least ``scenario.json`` is
written so the report can show the scenario's geometry.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text
from marsrelay.report import schema
from marsrelay.report.rundir import read_scenario_toml_text

__all__ = ["is_run_directory", "resolve_inputs", "run_scenario"]


def is_run_directory(path: Path) -> bool:
    """Whether ``path`` is a folder holding a run's ``scenario.json`` or contacts table."""
    return path.is_dir() and any(
        (path / f).is_file() for f in (schema.SCENARIO_JSON, *schema.CONTACTS.files)
    )


def _builtin_names() -> list[str]:
    try:
        from marsrelay.scenario import builtin_scenario_names
    except ImportError:
        return []
    return list(builtin_scenario_names())


def _load_scenario(text: str) -> Any:
    from marsrelay.scenario import load_scenario

    return load_scenario(text)


def _contacts_stage() -> Callable[[Any, Path], None] | None:
    """A ``(scenario, out_dir)`` runner built from the contacts stage, if it has one."""
    try:
        mod = importlib.import_module("marsrelay.contacts")
    except ImportError:
        return None
    run = getattr(mod, "run_contacts_stage", None) or getattr(mod, "run_stage", None)
    if callable(run):
        return run
    find = next(
        (getattr(mod, n) for n in ("find_contacts", "compute_contacts", "contact_windows")
         if callable(getattr(mod, n, None))),
        None,
    )
    write = getattr(mod, "write_contacts", None)
    if find is None or not callable(write):
        return None

    def _run(scenario: Any, out_dir: Path) -> None:
        write(find(scenario), out_dir)

    return _run


def run_scenario(scenario: Any, out_dir: str | Path) -> Path:
    """Run ``scenario`` (a loaded :class:`marsrelay.scenario.Scenario`) into ``out_dir``.

    Uses ``marsrelay.pipeline.run_pipeline`` when the project has it, else the contacts stage;
    always leaves ``scenario.json`` in ``out_dir``. Returns ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        from marsrelay.pipeline import run_pipeline  # provided by the lead
    except ImportError:
        run_pipeline = None
    if run_pipeline is not None:
        run_pipeline(scenario, out)
    else:
        stage = _contacts_stage()
        if stage is not None:
            stage(scenario, out)
    if not (out / schema.SCENARIO_JSON).is_file() and hasattr(scenario, "to_json"):
        atomic_write_text(out / schema.SCENARIO_JSON, scenario.to_json())
    return out


def resolve_inputs(
    items: Sequence[str], work_dir: str | Path | None = None
) -> list[Path]:
    """Run directories for ``items``: each is a run directory, a scenario TOML file or a
    built-in scenario name (those are run into ``work_dir/<name>``, a fresh temporary folder
    when ``work_dir`` is ``None``).

    Raises :class:`InputError` for a path that does not exist, a folder that is not a run
    directory, or a scenario that does not parse.
    """
    if not items:
        raise InputError("give at least one run directory or scenario")
    out: list[Path] = []
    base: Path | None = Path(work_dir) if work_dir is not None else None
    for item in items:
        path = Path(item)
        if path.is_dir():
            if not is_run_directory(path):
                raise InputError(
                    "not a run directory (no scenario.json and no contacts table)",
                    file=item,
                    allowed="a folder written by 'marsrelay run', a scenario file or name",
                )
            out.append(path)
            continue
        if path.is_file():
            if path.suffix.lower() != ".toml":
                raise InputError(
                    "not a run directory or a scenario file", file=item,
                    allowed="a run directory, a .toml scenario file or a built-in name",
                )
            read_scenario_toml_text(path)  # syntax errors name the line
            scenario = _load_scenario(str(path))
        elif item in _builtin_names():
            scenario = _load_scenario(item)
        else:
            names = ", ".join(_builtin_names())
            raise InputError(
                "no such run directory, scenario file or built-in scenario",
                file=item,
                allowed=f"an existing folder or .toml file, or one of: {names}"
                if names else "an existing folder or .toml file",
            )
        if base is None:
            base = Path(tempfile.mkdtemp(prefix="marsrelay-runs-"))
        target = base / scenario.name
        k = 2
        while target in out:
            target, k = base / f"{scenario.name}-{k}", k + 1
        out.append(run_scenario(scenario, target))
    return out
