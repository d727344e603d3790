"""Shared fixtures: small scenario files written into the test's temporary folder, a CLI runner
and the check of the CLI's one-line user errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

#: The service tests' fixtures (databases, a PostgreSQL server, test clients).
pytest_plugins = ["helpers.service_kit"]

#: A small valid scenario (every later edit makes exactly one thing wrong).
BASE_TOML = """\
[scenario]
name = "test-case"
description = "two orbiters, one lander, one station"
start = "2030-06-01T00:00:00Z"
end = "2030-06-02T00:00:00Z"

[[orbiter]]
name = "TGO"
agency = "ESA"
[orbiter.elements]
a_km = 3796.19
e = 0.0
i_deg = 74.0

[[orbiter]]
name = "MRO"
[orbiter.elements]
a_km = 3683.69
e = 0.0088
i_deg = 92.6
raan_deg = 40.0

[[lander]]
name = "Rosalind Franklin"
lat_deg = 18.275
lon_east_deg = 335.368
height_km = -3.0
elevation_mask_deg = 10.0

[[station]]
name = "DSS-43"
lat_deg = -35.4040
lon_east_deg = 148.9801
height_m = 689.0
dish_m = 70.0
"""


@pytest.fixture
def base_toml() -> str:
    """The text of a small valid scenario."""
    return BASE_TOML


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    """``write_scenario(text, name='scenario.toml') -> Path`` in the test's tmp folder."""

    def _write(text: str = BASE_TOML, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def runner() -> CliRunner:
    """typer's CliRunner (stdout and stderr kept apart)."""
    return CliRunner()


def error_line(result) -> str:
    """The one non-blank stderr line of a CLI ``result``, checked to start with 'error: '."""
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]
