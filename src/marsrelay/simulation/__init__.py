"""Store-and-forward simulation with Contact Graph Routing, and ION contact plans.

- :mod:`.plan`: :class:`ContactPlan`, the contact plan (arrays), built from a contact table.
- :mod:`.traffic`: :class:`Bundles` and :func:`generate_traffic` (the ``[traffic]`` sources).
- :mod:`.engine`: :func:`simulate`, the node model driving the three parts below.
- :mod:`.events`: the event queue; :mod:`.cgr`: Contact Graph Routing (SABR semantics);
  :mod:`.transmission`: transmitters and their queues (the array-based data path).
- :mod:`.outcome`: :class:`SimulationOutcome` and the bit-conservation check.
- :mod:`.results`: :class:`SimulationResult` (per-sol delivery, latency, buffers) and outputs.
- :mod:`.ion`: ION contact plans (``ionadmin`` commands) read and written as ION reads them.
- :mod:`.stage`: :func:`run`, the stage as the pipeline runs it (and :func:`run_on_plan`).
"""

from marsrelay.simulation.engine import (
    DROP_REASONS,
    ConservationError,
    SimulationOutcome,
    simulate,
)
from marsrelay.simulation.plan import ContactPlan
from marsrelay.simulation.results import SimulationResult
from marsrelay.simulation.stage import run, run_on_plan
from marsrelay.simulation.traffic import Bundles, generate_traffic

__all__ = [
    "DROP_REASONS",
    "Bundles",
    "ConservationError",
    "ContactPlan",
    "SimulationOutcome",
    "SimulationResult",
    "generate_traffic",
    "run",
    "run_on_plan",
    "simulate",
]
