"""Mars rotation models against NAIF SPICE with PCK and TK frame kernels written here."""

from __future__ import annotations

import numpy as np
import pytest
import spiceypy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.spicekit import LoadedKernels, pole_from_spice, write_lsk, write_mars_eq_fk, write_pck
from marsrelay.geometry.rotation import ROTATION_MODELS, rot1, rot3, rotation_model

MODELS = ("iau2009", "iau2015")
#: TDB seconds spanning 1900..2050 (ET of 1900-01-01 and 2051-01-01, rounded).
T_MIN, T_MAX = -3.155e9, 1.609e9


@pytest.fixture(scope="module", params=MODELS)
def spice_model(request, tmp_path_factory):
    """(model name, pole RA, pole Dec at J2000) with LSK, PCK and MARS_EQ_J2000 FK loaded."""
    model = request.param
    d = tmp_path_factory.mktemp(model)
    lsk, pck = write_lsk(d), write_pck(d, model)
    with LoadedKernels([lsk, pck]):
        ra0, dec0 = pole_from_spice(0.0)
        fk = write_mars_eq_fk(d, ra0, dec0)
        with LoadedKernels([fk]):
            yield model, ra0, dec0


def _times(n: int = 400) -> np.ndarray:
    t = np.random.default_rng(499).uniform(T_MIN, T_MAX, n)
    return np.concatenate([t, [0.0, T_MIN, T_MAX, 86400.0 * 365.25 * 30]])


def test_icrf_to_body_and_rate_match_sxform(spice_model):
    model, *_ = spice_model
    m = rotation_model(model)
    t = _times()
    rot, rate = m.icrf_to_body_with_rate(t)
    ref = np.array([sp.sxform("J2000", "IAU_MARS", float(tk)) for tk in t])
    # A matrix error of 1e-9 is a rotation error of 1e-9 rad.
    assert np.abs(rot - ref[:, :3, :3]).max() < 1e-9
    # Rate: |dR/dt| is about Mars' spin rate, 7.09e-5 rad/s; ask for 1e-9 of it.
    assert np.abs(rate - ref[:, 3:, :3]).max() < 1e-9 * 7.1e-5
    assert np.abs(m.icrf_to_body(t) - rot).max() < 1e-15
    pxf = np.array([sp.pxform("J2000", "IAU_MARS", float(tk)) for tk in t[:50]])
    assert np.abs(m.icrf_to_body(t[:50]) - pxf).max() < 1e-9


def test_pole_matches_spice(spice_model):
    model, *_ = spice_model
    m = rotation_model(model)
    t = _times(50)
    ref = np.array([sp.pxform("J2000", "IAU_MARS", float(tk))[2] for tk in t])
    assert np.abs(m.pole_icrf(t) - ref).max() < 1e-9


def test_mars_eq_j2000_matches_tk_frame(spice_model):
    model, ra0, dec0 = spice_model
    m = rotation_model(model)
    eq = m.mars_eq_j2000()
    for et in (0.0, 7.3e8, -2e9):  # a TK frame is constant
        ref = np.array(sp.pxform("J2000", "MARS_EQ_J2000", et))
        assert np.abs(eq - ref).max() < 1e-12
    # Its definition, checked geometrically: z is Mars' pole at J2000 (from SPICE's IAU_MARS),
    # x the ascending node of Mars' equator on the ICRF equator, i.e. along z_icrf x pole.
    pole = np.array(sp.pxform("J2000", "IAU_MARS", 0.0))[2]
    node = np.cross([0.0, 0.0, 1.0], pole)
    assert np.abs(eq[2] - pole).max() < 1e-12
    assert np.abs(eq[0] - node / np.linalg.norm(node)).max() < 1e-12
    assert np.abs(eq @ eq.T - np.eye(3)).max() < 1e-15
    assert np.linalg.det(eq) == pytest.approx(1.0, abs=1e-15)
    # IAU_MARS at J2000 is MARS_EQ_J2000 turned by W(0) about the pole (exactly so for iau2009;
    # the 2015 model's periodic terms move the pole's rate only, not its J2000 position).
    w0 = {"iau2009": 176.630, "iau2015": None}[model]
    if w0 is not None:
        body0 = np.array(sp.pxform("J2000", "IAU_MARS", 0.0))
        assert np.abs(rot3(np.radians(w0)) @ eq - body0).max() < 1e-12
    # Pole at J2000 of both models: the 2015 constants plus their periodic terms at T = 0
    # reproduce the 2009 pole within 0.001 deg (Archinal et al. 2018 re-split the constants).
    assert ra0 == pytest.approx(317.68143, abs=1e-3)
    assert dec0 == pytest.approx(52.88650, abs=1e-3)


def test_angles_follow_the_published_polynomials():
    # IAU 2009 (pck00010.tpc) typed in: a0 = 317.68143 - 0.1061 T, d0 = 52.88650 - 0.0609 T,
    # W = 176.630 + 350.89198226 d.
    t = np.array([0.0, 36525 * 86400.0, -1e9])
    ra, dec, w, ra_dot, dec_dot, w_dot = rotation_model("iau2009").angles_deg(t)
    big_t, d = t / (36525 * 86400.0), t / 86400.0
    assert np.allclose(ra, 317.68143 - 0.1061 * big_t, atol=1e-12)
    assert np.allclose(dec, 52.88650 - 0.0609 * big_t, atol=1e-12)
    assert np.allclose(w, 176.630 + 350.89198226 * d, rtol=1e-15, atol=1e-9)
    assert np.allclose(w_dot, 350.89198226 / 86400.0, rtol=1e-15)
    assert np.allclose(ra_dot, -0.1061 / (36525 * 86400.0), rtol=1e-12)
    assert np.allclose(dec_dot, -0.0609 / (36525 * 86400.0), rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=T_MIN, max_value=T_MAX), st.sampled_from(MODELS))
def test_rate_is_the_time_derivative(tdb, model):
    m = rotation_model(model)
    h = 50.0
    rot, rate = m.icrf_to_body_with_rate([tdb])
    r = m.icrf_to_body(tdb + h * np.array([-2.0, -1.0, 1.0, 2.0]))
    fd = (r[0] - 8.0 * r[1] + 8.0 * r[2] - r[3]) / (12.0 * h)
    # Five-point stencil: truncation ~ w^5 h^4 / 30 = 4e-16 (w = 7.1e-5 rad/s); rounding of W
    # (up to 1.3e7 deg in 1900, float64 resolution 3.3e-11 rad) gives ~ 1.5 * 3.3e-11 / h.
    assert np.abs(rate[0] - fd).max() < 2e-12
    assert np.abs(rot[0] @ rot[0].T - np.eye(3)).max() < 1e-14


def test_elementary_rotations_are_spice_frame_rotations():
    for angle in (0.3, -2.0, 4.0):
        assert np.abs(rot1(angle) - np.array(sp.rotate(angle, 1))).max() < 1e-15
        assert np.abs(rot3(angle) - np.array(sp.rotate(angle, 3))).max() < 1e-15


def test_model_lookup():
    assert set(ROTATION_MODELS) == set(MODELS)
    assert rotation_model().name == "iau2009"
    with pytest.raises(ValueError, match=r"unknown rotation model 'iau1991'.*iau2009, iau2015"):
        rotation_model("iau1991")
