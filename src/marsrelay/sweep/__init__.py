"""Trade-study sweeps: one base scenario, parameter axes, figures per case; run locally or on a
Dask cluster, resumable, results in Parquet.

    >>> from marsrelay.sweep import load_sweep, run_sweep          # doctest: +SKIP
    >>> outcome = run_sweep(load_sweep("sites.toml"), "out/sites")  # doctest: +SKIP

See :mod:`marsrelay.sweep.spec` for the sweep file, :mod:`marsrelay.sweep.paths` for parameter
paths, :mod:`marsrelay.sweep.run` for the output folder and resuming.
"""

from marsrelay.sweep.case import FIGURE_NAMES, FIGURES, Case, CaseResult, evaluate_case
from marsrelay.sweep.run import CaseError, Progress, SweepOutcome, run_sweep
from marsrelay.sweep.spec import Axis, Sweep, case_id_of, load_sweep
from marsrelay.sweep.summary import FigureSummary, read_results, summarise

__all__ = [
    "FIGURES",
    "FIGURE_NAMES",
    "Axis",
    "Case",
    "CaseError",
    "CaseResult",
    "FigureSummary",
    "Progress",
    "Sweep",
    "SweepOutcome",
    "case_id_of",
    "evaluate_case",
    "load_sweep",
    "read_results",
    "run_sweep",
    "summarise",
]
