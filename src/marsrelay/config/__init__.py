"""Per-stage configuration sections of a scenario file (``[links]``, ``[traffic]``, ...).

Each section is a pydantic model (``extra="forbid"``, every field defaulted) owned by the stage
that reads it; :mod:`marsrelay.scenario` embeds them under the top-level tables of the same name.
"""

from marsrelay.config.ion import IonConfig
from marsrelay.config.links import LinksConfig
from marsrelay.config.schedule import ScheduleConfig
from marsrelay.config.simulation import SimulationConfig
from marsrelay.config.traffic import TrafficConfig

__all__ = ["IonConfig", "LinksConfig", "ScheduleConfig", "SimulationConfig", "TrafficConfig"]
