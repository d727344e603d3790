"""Mars orientation: IAU rotation models, ICRF <-> Mars body-fixed (``IAU_MARS``) matrices.

One module holds every model so a user picks one by name:

- ``iau2009`` (default): IAU WGCCRE 2009 (Archinal et al. 2011) exactly as NAIF's generic
  ``pck00010.tpc`` has it, no periodic terms::

      a0 = 317.68143 - 0.1061 T,  d0 = 52.88650 - 0.0609 T,  W = 176.630 + 350.89198226 d

- ``iau2015``: IAU WGCCRE 2015 (Archinal et al. 2018) as in ``pck00011.tpc``, with its
  periodic terms (``BODY499_NUT_PREC_*`` on the ``BODY4_NUT_PREC_ANGLES`` that have non-zero
  Mars amplitudes).

Angles in degrees, ``d`` TDB days and ``T`` TDB Julian centuries past J2000. The rotation ICRF ->
body-fixed is ``R3(W) R1(90 - d0) R3(90 + a0)`` as in SPICE (``R3``/``R1`` rotate the frame, not
the vector). ``MARS_EQ_J2000``, the frame orbital elements are given in, is
``R1(90 - d0) R3(90 + a0)`` with ``a0, d0`` evaluated at ``T = 0``.

Worked example::

    >>> import numpy as np
    >>> from marsrelay.geometry.rotation import rotation_model
    >>> m = rotation_model("iau2009")
    >>> r = m.icrf_to_body([0.0])          # (1, 3, 3) matrix at J2000
    >>> bool(np.allclose(r[0] @ r[0].T, np.eye(3)))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from marsrelay.constants import DAY_S, JULIAN_CENTURY_DAYS

__all__ = ["ROTATION_MODELS", "RotationModel", "rot1", "rot3", "rotation_model"]

_CENTURY_S = JULIAN_CENTURY_DAYS * DAY_S
_DEG = np.pi / 180.0


@dataclass(frozen=True)
class RotationModel:
    """An IAU-style rotation model: polynomials plus periodic terms, all in degrees.

    ``ra_deg``/``dec_deg`` are polynomial coefficients in T (centuries); ``pm_deg`` in d (days).
    Each periodic term is ``(amplitude_deg, phase0_deg, rate_deg_per_century)``; RA and PM terms
    use ``sin(theta)``, Dec terms ``cos(theta)``, as in SPICE PCKs.
    """

    name: str
    ra_deg: tuple[float, ...]
    dec_deg: tuple[float, ...]
    pm_deg: tuple[float, ...]
    ra_terms: tuple[tuple[float, float, float], ...] = ()
    dec_terms: tuple[tuple[float, float, float], ...] = ()
    pm_terms: tuple[tuple[float, float, float], ...] = ()
    source: str = ""

    def angles_deg(self, tdb_s: Sequence[float] | np.ndarray | float):
        """Pole RA, pole Dec, prime meridian W (deg) and their rates (deg/s) at TDB seconds."""
        tdb = np.atleast_1d(np.asarray(tdb_s, dtype=float)).ravel()
        T = tdb / _CENTURY_S
        d = tdb / DAY_S
        ra, ra_dot = _poly(self.ra_deg, T, _CENTURY_S)
        dec, dec_dot = _poly(self.dec_deg, T, _CENTURY_S)
        pm, pm_dot = _poly(self.pm_deg, d, DAY_S)
        for amp, ph0, rate in self.ra_terms:
            th = (ph0 + rate * T) * _DEG
            ra = ra + amp * np.sin(th)
            ra_dot = ra_dot + amp * np.cos(th) * rate * _DEG / _CENTURY_S
        for amp, ph0, rate in self.dec_terms:
            th = (ph0 + rate * T) * _DEG
            dec = dec + amp * np.cos(th)
            dec_dot = dec_dot - amp * np.sin(th) * rate * _DEG / _CENTURY_S
        for amp, ph0, rate in self.pm_terms:
            th = (ph0 + rate * T) * _DEG
            pm = pm + amp * np.sin(th)
            pm_dot = pm_dot + amp * np.cos(th) * rate * _DEG / _CENTURY_S
        return ra, dec, pm, ra_dot, dec_dot, pm_dot

    def icrf_to_body(self, tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """Rotation matrices ICRF -> Mars body-fixed, shape ``(N, 3, 3)``."""
        ra, dec, pm, *_ = self.angles_deg(tdb_s)
        return rot3(pm * _DEG) @ rot1((90.0 - dec) * _DEG) @ rot3((90.0 + ra) * _DEG)

    def icrf_to_body_with_rate(
        self, tdb_s: Sequence[float] | np.ndarray | float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Matrices ``R`` ICRF -> body-fixed and their time derivatives ``dR/dt`` (1/s).

        With them a state transforms as ``r_b = R r``, ``v_b = R v + dR/dt r`` (SPICE ``sxform``).
        """
        ra, dec, pm, ra_dot, dec_dot, pm_dot = self.angles_deg(tdb_s)
        a = rot3(pm * _DEG)
        b = rot1((90.0 - dec) * _DEG)
        c = rot3((90.0 + ra) * _DEG)
        da = _drot3(pm * _DEG) * (pm_dot * _DEG)[:, None, None]
        db = _drot1((90.0 - dec) * _DEG) * (-dec_dot * _DEG)[:, None, None]
        dc = _drot3((90.0 + ra) * _DEG) * (ra_dot * _DEG)[:, None, None]
        bc = b @ c
        return a @ bc, da @ bc + a @ (db @ c) + a @ (b @ dc)

    def mars_eq_j2000(self) -> np.ndarray:
        """Matrix ICRF -> ``MARS_EQ_J2000`` (Mars equator and pole of J2000), shape ``(3, 3)``."""
        ra, dec, *_ = self.angles_deg([0.0])
        return (rot1((90.0 - dec) * _DEG) @ rot3((90.0 + ra) * _DEG))[0]

    def pole_icrf(self, tdb_s: Sequence[float] | np.ndarray | float) -> np.ndarray:
        """Unit vectors of Mars' north pole in ICRF, shape ``(N, 3)``."""
        ra, dec, *_ = self.angles_deg(tdb_s)
        ra, dec = ra * _DEG, dec * _DEG
        return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], -1)


def _poly(coef: tuple[float, ...], x: np.ndarray, unit_s: float) -> tuple[np.ndarray, np.ndarray]:
    val = np.zeros_like(x)
    der = np.zeros_like(x)
    for k, c in enumerate(coef):
        val = val + c * x**k
        if k:
            der = der + k * c * x ** (k - 1)
    return val, der / unit_s


def rot3(angle_rad: np.ndarray | float) -> np.ndarray:
    """Frame rotation about z by ``angle_rad`` (SPICE ``rotate(angle, 3)``), ``(..., 3, 3)``."""
    a = np.asarray(angle_rad, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([c, s, z], -1), np.stack([-s, c, z], -1), np.stack([z, z, o], -1)], -2
    )


def rot1(angle_rad: np.ndarray | float) -> np.ndarray:
    """Frame rotation about x by ``angle_rad`` (SPICE ``rotate(angle, 1)``), ``(..., 3, 3)``."""
    a = np.asarray(angle_rad, dtype=float)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack(
        [np.stack([o, z, z], -1), np.stack([z, c, s], -1), np.stack([z, -s, c], -1)], -2
    )


def _drot3(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z = np.zeros_like(a)
    return np.stack(
        [np.stack([-s, c, z], -1), np.stack([-c, -s, z], -1), np.stack([z, z, z], -1)], -2
    )


def _drot1(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z = np.zeros_like(a)
    return np.stack(
        [np.stack([z, z, z], -1), np.stack([z, -s, c], -1), np.stack([z, -c, -s], -1)], -2
    )


IAU2009 = RotationModel(
    name="iau2009",
    ra_deg=(317.68143, -0.1061),
    dec_deg=(52.88650, -0.0609),
    pm_deg=(176.630, 350.89198226),
    source="IAU WGCCRE 2009 (Archinal et al. 2011); NAIF pck00010.tpc BODY499_*",
)

IAU2015 = RotationModel(
    name="iau2015",
    ra_deg=(317.269202, -0.10927547),
    dec_deg=(54.432516, -0.05827105),
    pm_deg=(176.049863, 350.891982443297),
    ra_terms=(
        (0.000068, 198.991226, 19139.4819985),
        (0.000238, 226.292679, 38280.8511281),
        (0.000052, 249.663391, 57420.7251593),
        (0.000009, 266.183510, 76560.6367950),
        (0.419057, 79.398797, 0.5042615),
    ),
    dec_terms=(
        (0.000051, 122.433576, 19139.9407476),
        (0.000141, 43.058401, 38280.8753272),
        (0.000031, 57.663379, 57420.7517205),
        (0.000005, 79.476401, 76560.6495004),
        (1.591274, 166.325722, 0.5042615),
    ),
    pm_terms=(
        (0.000145, 129.071773, 19140.0328244),
        (0.000157, 36.352167, 38281.0473591),
        (0.000040, 56.668646, 57420.9295360),
        (0.000001, 67.364003, 76560.2552215),
        (0.000001, 104.792680, 95700.4387578),
        (0.584542, 95.391654, 0.5042615),
    ),
    source=(
        "IAU WGCCRE 2015 (Archinal et al. 2018); "
        "NAIF pck00011.tpc BODY499_*, BODY4_NUT_PREC_ANGLES"
    ),
)

#: Models by name.
ROTATION_MODELS: dict[str, RotationModel] = {m.name: m for m in (IAU2009, IAU2015)}


def rotation_model(name: str = "iau2009") -> RotationModel:
    """The rotation model called ``name`` (``iau2009`` or ``iau2015``)."""
    try:
        return ROTATION_MODELS[name]
    except KeyError:
        raise ValueError(
            f"unknown rotation model {name!r}: choose one of {', '.join(ROTATION_MODELS)}"
        ) from None
