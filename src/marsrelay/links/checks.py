"""Checks of ``[links]`` input: one :class:`Checker` per scenario raises
:class:`~marsrelay.errors.InputError` naming the file, the key and what is allowed; radio rate
tables against Proximity-1 and the radio's symbol rate; station class from the dish.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from marsrelay.errors import InputError
from marsrelay.links.catalogue import CODINGS, PROXIMITY1_RATES_BPS, ProximityRadio
from marsrelay.scenario import Scenario

__all__ = ["Checker", "check_radio_rates", "scenario_file", "station_class"]


class Checker:
    def __init__(self, file: str | None) -> None:
        self.file = file

    def fail(self, field_path: str, problem: str, allowed: str | None = None) -> None:
        raise InputError(problem, file=self.file, field=field_path, allowed=allowed)

    def positive(self, field_path: str, value: float, unit: str) -> None:
        if not (math.isfinite(value) and value > 0.0):
            self.fail(field_path, f"{value!r} must be a positive number of {unit}", f"> 0 {unit}")

    def finite(self, field_path: str, value: float, lo: float = -math.inf,
               hi: float = math.inf, unit: str = "") -> None:
        if not (math.isfinite(value) and lo <= value <= hi):
            self.fail(field_path, f"{value!r} is out of range", f"{lo} .. {hi} {unit}".strip())

    def name(self, field_path: str, value: str, allowed: Iterable[str], what: str) -> None:
        allowed = list(allowed)
        if value not in allowed:
            self.fail(field_path, f"unknown {what} {value!r}", ", ".join(allowed))


def scenario_file(scenario: Scenario) -> str | None:
    """The scenario's file as text, or None for a scenario built in memory."""
    path = scenario.path
    return str(path) if path is not None else None


def check_radio_rates(chk: Checker, radio: ProximityRadio) -> None:
    where = f"links.radios.{radio.name}.rates_bps"
    prox = ", ".join(f"{r:.0f}" for r in PROXIMITY1_RATES_BPS)
    if not radio.rates_bps:
        chk.fail(where, "empty rate list", f"Proximity-1 rates {prox} bps")
    code = CODINGS[radio.coding]
    for r in radio.rates_bps:
        if not any(abs(r - p) < 1e-6 for p in PROXIMITY1_RATES_BPS):
            chk.fail(where, f"{r:g} bps is not a Proximity-1 data rate", f"{prox} bps")
        if r / code.code_rate > radio.max_symbol_rate_sps * (1 + 1e-9):
            top = radio.max_symbol_rate_sps * code.code_rate
            chk.fail(
                where,
                f"{r:g} bps with coding {code.name} needs {r / code.code_rate:g} symbols/s, above "
                f"the {radio.name} radio's {radio.max_symbol_rate_sps:g} symbols/s",
                f"rates <= {top:g} bps with {code.name}",
            )


def station_class(dish_m: float | None, agency: str) -> str:
    if dish_m is not None and dish_m >= 60.0:
        return "dsn-70m" if dish_m >= 68.0 else "ru-64m"
    if (dish_m is not None and abs(dish_m - 35.0) < 0.5) or agency.upper() == "ESA":
        return "estrack-35m"
    return "dsn-34m"
