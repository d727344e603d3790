"""A scenario may name its own planetary SPK (conventions: "a scenario may name another SPK
file"). The test writes a type-2 SPK from DE421's own Chebyshev coefficients (tests/spicekit),
so the kernel holds the same ephemeris by an independent route (SPICE's layout, jplephem's
reader): states, and the contact windows of a scenario, must come out the same."""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy as sp

from helpers.spicekit import LoadedKernels, write_planetary_spk
from marsrelay.contacts import find_contacts
from marsrelay.errors import InputError
from marsrelay.geometry.ephemeris import Ephemeris, SpkEphemeris
from marsrelay.scenario import load_scenario

T0 = 9.72e8  # 2030-10-20
SPAN = 20 * 86400.0


@pytest.fixture(scope="module")
def bsp(tmp_path_factory):
    path = tmp_path_factory.mktemp("eph") / "planets.bsp"
    write_planetary_spk(path, Ephemeris.de421(), T0, T0 + SPAN)
    return path


def test_spk_ephemeris_equals_spice_and_de421(bsp):
    eph = SpkEphemeris(bsp)
    t = np.linspace(T0 + 10.0, T0 + SPAN - 10.0, 200)
    pos, vel = eph.state_km("mars", t, centre="earth")
    with LoadedKernels([str(bsp)]):
        want = np.array([sp.spkgeo(4, float(tk), "J2000", 399)[0] for tk in t])
    np.testing.assert_allclose(pos, want[:, :3], atol=1e-6)
    np.testing.assert_allclose(vel, want[:, 3:], atol=1e-9)
    p2, _ = Ephemeris.de421().state_km("mars", t, centre="earth")
    np.testing.assert_allclose(pos, p2, atol=1e-6)


def _scenario_text(ephemeris_line: str, start: str, end: str) -> str:
    sc = load_scenario("exomars-2030")
    text = sc.path.read_text()
    text = text.replace('start = "2030-11-01T00:00:00Z"', f'start = "{start}"')
    text = text.replace('end = "2030-12-01T00:00:00Z"', f'end = "{end}"')
    anchor = "conjunction_sep_deg = 2.0\n"
    return text.replace(anchor, anchor + ephemeris_line, 1)


def test_a_scenario_naming_the_kernel_gets_the_same_windows(bsp, tmp_path):
    (tmp_path / "planets.bsp").write_bytes(bsp.read_bytes())
    own = tmp_path / "own.toml"
    own.write_text(_scenario_text('ephemeris = "planets.bsp"\n',
                                  "2030-11-01T00:00:00Z", "2030-11-03T00:00:00Z"))
    default = tmp_path / "default.toml"
    default.write_text(_scenario_text("", "2030-11-01T00:00:00Z", "2030-11-03T00:00:00Z"))
    a, b = load_scenario(own), load_scenario(default)
    assert a.ephemeris_path == (tmp_path / "planets.bsp").resolve()
    ca, cb = find_contacts(a, workers=1), find_contacts(b, workers=1)
    assert len(ca) == len(cb) > 0
    assert list(ca.kind) == list(cb.kind)
    np.testing.assert_allclose(ca.start_tdb_s, cb.start_tdb_s, atol=1e-4)
    np.testing.assert_allclose(ca.end_tdb_s, cb.end_tdb_s, atol=1e-4)


def test_a_span_outside_the_named_kernel_is_an_input_error(bsp, tmp_path):
    (tmp_path / "planets.bsp").write_bytes(bsp.read_bytes())
    f = tmp_path / "late.toml"
    f.write_text(_scenario_text('ephemeris = "planets.bsp"\n',
                                "2031-01-01T00:00:00Z", "2031-01-02T00:00:00Z"))
    with pytest.raises(InputError, match=r"scenario\.start: .*outside the planets\.bsp ephemeris"):
        load_scenario(f)
    missing = tmp_path / "missing.toml"
    missing.write_text(_scenario_text('ephemeris = "nope.bsp"\n',
                                      "2030-11-01T00:00:00Z", "2030-11-02T00:00:00Z"))
    with pytest.raises(InputError, match=r"scenario\.ephemeris: planetary SPK file not found"):
        load_scenario(missing)
