"""The report stage: summaries of runs, their comparison, and one self-contained HTML report.

Reads only what the earlier stages wrote into a run directory (file schema:
:mod:`marsrelay.report.schema`); the map and the Earth-Mars plot add geometry for pictures.
"""

from marsrelay.report.compare import Comparison, compare_runs, compare_summaries
from marsrelay.report.html import build_report_html, write_report
from marsrelay.report.run_data import RunData, load_run
from marsrelay.report.summary import LanderFigures, Summary, summarise_run

__all__ = [
    "Comparison",
    "LanderFigures",
    "RunData",
    "Summary",
    "build_report_html",
    "compare_runs",
    "compare_summaries",
    "load_run",
    "summarise_run",
    "write_report",
]
