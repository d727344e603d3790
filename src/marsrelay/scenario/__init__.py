"""Scenario files (TOML): loading, validation, and the validated :class:`Scenario`.

- :mod:`.model`: the typed :class:`Scenario` every stage takes (frozen dataclasses);
- :mod:`.file_schema`: the file's tables and keys (pydantic), with their allowed values;
- :mod:`.validation`: validation errors as one-line messages (file, key path, allowed);
- :mod:`.load`: :func:`load_scenario` (a built-in name or a path) and
  :func:`scenario_from_data` (parsed TOML, e.g. a sweep case);
- ``builtin/``: the built-in scenario files.
"""

from marsrelay.scenario.load import (
    BUILTIN_DIR,
    builtin_scenario_names,
    builtin_scenario_path,
    load_scenario,
    scenario_from_data,
)
from marsrelay.scenario.model import LanderSpec, OrbiterSpec, Scenario, Window

__all__ = [
    "BUILTIN_DIR",
    "LanderSpec",
    "OrbiterSpec",
    "Scenario",
    "Window",
    "builtin_scenario_names",
    "builtin_scenario_path",
    "load_scenario",
    "scenario_from_data",
]
