"""Every file a run folder holds, its columns, their units and meaning: defined once, here.

The stages' results turn themselves into these tables (``tables()`` methods), the writer
(:mod:`marsrelay.rundir.tables`) writes each as CSV (for people) and Parquet (for programs) with
the same columns, and every reader (report, compare, CZML) reads them back through the same
specs. ``docs/outputs.md`` is generated from this module (``python -m marsrelay.rundir.schema``).

Conventions (``spec/conventions.md``, "Outputs"): times are UTC ISO 8601 with milliseconds and a
``Z`` in ``*_utc`` columns; ``*_tdb_s`` columns are TDB seconds past J2000 (full precision;
where a column is marked ``parquet only`` the CSV leaves it out and a reader of the CSV derives
it from its UTC partner). Node names are the scenario's; ``kind`` values are lower-case words.
Empty CSV cells are missing values (NaN in Parquet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ALL_TABLES",
    "BUFFERS",
    "BUNDLES",
    "CONJUNCTION",
    "CONTACTS",
    "DELIVERY",
    "LATENCY",
    "REPORT_HTML",
    "RUN_JSON",
    "SCENARIO_JSON",
    "SCHEDULE",
    "SCHEDULE_SOLS",
    "VOLUMES_PER_SOL",
    "Column",
    "TableSpec",
    "outputs_markdown",
]

ColumnType = Literal["text", "int", "float", "utc"]


@dataclass(frozen=True)
class Column:
    """One column: ``name`` (unit in the name where it has one), type, unit, meaning.

    ``decimals`` fixes the CSV's digits after the point (None: up to 15 significant digits);
    ``parquet_only`` columns are left out of the CSV and rebuilt from ``utc_partner`` when a
    reader only has the CSV.
    """

    name: str
    type: ColumnType
    unit: str
    description: str
    decimals: int | None = None
    parquet_only: bool = False
    utc_partner: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A table of a run folder: ``<name>.csv`` and ``<name>.parquet``, written by ``stage``."""

    name: str
    stage: str
    description: str
    columns: tuple[Column, ...]

    @property
    def csv_file(self) -> str:
        """File name of the CSV."""
        return f"{self.name}.csv"

    @property
    def parquet_file(self) -> str:
        """File name of the Parquet file."""
        return f"{self.name}.parquet"

    @property
    def files(self) -> tuple[str, str]:
        """Both file names (Parquet first: readers prefer it)."""
        return (self.parquet_file, self.csv_file)

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in order (Parquet layout)."""
        return tuple(c.name for c in self.columns)

    @property
    def csv_names(self) -> tuple[str, ...]:
        """The CSV's column names, in order."""
        return tuple(c.name for c in self.columns if not c.parquet_only)

    def column(self, name: str) -> Column:
        """The column called ``name`` (KeyError naming the table otherwise)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _text(name: str, description: str) -> Column:
    return Column(name, "text", "", description)


def _int(name: str, unit: str, description: str) -> Column:
    return Column(name, "int", unit, description)


def _num(name: str, unit: str, description: str, decimals: int | None = None) -> Column:
    return Column(name, "float", unit, description, decimals)


def _utc(name: str, description: str) -> Column:
    return Column(name, "utc", "UTC", description)


def _tdb(name: str, description: str, *, parquet_only: bool = True) -> Column:
    partner = name.removesuffix("_tdb_s") + "_utc"
    return Column(name, "float", "s", description + " (TDB s past J2000)", None, parquet_only,
                  partner)


CONTACTS = TableSpec(
    "contacts", "contacts",
    "Every visibility window of every pair, sorted by start. Proximity windows: lander first, "
    "geometric (no light time). Earth windows: the sender first, edges in the sender's time "
    "(TDB at transmission), the station receiving one light time later. The links stage "
    "fills rate_bps_mean and volume_bits.",
    (
        _text("source", "sending node: the lander (proximity), or the spacecraft (Earth links)"),
        _text("target", "receiving node: the orbiter (proximity) or the Earth station"),
        _text("kind", "proximity | orbiter_earth | direct_earth"),
        _utc("start_utc", "window opens (sender's time)"),
        _utc("end_utc", "window closes (sender's time)"),
        _num("duration_s", "s", "end - start", 3),
        _num("max_elevation_deg", "deg",
             "highest elevation of the far end seen from the surface end (lander or station)", 4),
        _utc("max_elevation_utc", "when the elevation is highest"),
        _num("min_range_km", "km", "shortest distance over the window", 3),
        _num("max_range_km", "km", "longest distance over the window", 3),
        _num("owlt_s", "s", "one-way light time at the window's midpoint (0 for proximity)", 6),
        _num("rate_bps_mean", "bit/s", "volume_bits / duration_s (links stage)", 1),
        _num("volume_bits", "bit", "data the link budget carries over the window (links stage)",
             0),
        _tdb("start_tdb_s", "window opens"),
        _tdb("end_tdb_s", "window closes"),
        _tdb("max_elevation_tdb_s", "highest elevation"),
    ),
)

CONJUNCTION = TableSpec(
    "conjunction", "contacts",
    "Spans when the Sun-Earth-Mars angle is below the scenario's conjunction_sep_deg: Earth "
    "links are blocked (station's time).",
    (
        _utc("start_utc", "blockage starts"),
        _utc("end_utc", "blockage ends"),
        _num("duration_s", "s", "end - start", 3),
        _num("threshold_deg", "deg", "the scenario's conjunction_sep_deg"),
        _tdb("start_tdb_s", "blockage starts"),
        _tdb("end_tdb_s", "blockage ends"),
    ),
)

VOLUMES_PER_SOL = TableSpec(
    "volumes_per_sol", "links",
    "Link capacity per lander, partner (orbiter or station) and local sol: what the links "
    "could carry, not what was returned (see delivery). Sols run from the lander's LMST "
    "midnight; sol is the Mars Sol Date of the lander's local sol. A pass counts in the sol "
    "of its midpoint; contact time and volumes are split at the midnight.",
    (
        _text("lander", "the lander"),
        _text("partner", "orbiter (proximity) or Earth station (direct_earth)"),
        _text("kind", "proximity | direct_earth"),
        _int("sol", "", "local sol (Mars Sol Date at the lander's longitude)"),
        _utc("sol_start_utc", "the sol's LMST midnight"),
        _int("passes", "", "windows whose midpoint lies in the sol"),
        _num("contact_s", "s", "window time inside the sol", 3),
        _num("volume_bits", "bit",
             "capacity as run: the adaptive-rate volume where the pair uses ADR, else the "
             "fixed-rate volume", 0),
        _num("volume_adr_bits", "bit", "capacity with the adaptive data rate", 0),
        _num("volume_fixed_bits", "bit", "capacity at one fixed rate per pass", 0),
        _tdb("sol_start_tdb_s", "the sol's LMST midnight"),
    ),
)

SCHEDULE = TableSpec(
    "schedule", "schedule",
    "Every candidate relay pass (proximity window) with the scheduler's decision: selected, "
    "split with another lander (only the share's window used) or dropped, and why.",
    (
        _int("pass_id", "", "row of the candidate pass (its order in the contact table)"),
        _text("lander", "the lander"),
        _text("orbiter", "the orbiter"),
        _text("status", "selected | split | dropped"),
        _utc("start_utc", "pass starts"),
        _utc("end_utc", "pass ends"),
        Column("start_tdb_s", "float", "s", "pass starts (TDB s past J2000)", 3,
               utc_partner="start_utc"),
        Column("end_tdb_s", "float", "s", "pass ends (TDB s past J2000)", 3,
               utc_partner="end_utc"),
        _num("duration_s", "s", "end - start", 3),
        _int("lander_sol", "", "the lander's local sol the pass starts in"),
        _num("volume_bits", "bit", "the pass's link capacity", 0),
        _num("planned_bits", "bit", "data the plan puts through the pass", 0),
        _text("reason", "why a pass was dropped or not filled (empty when fully used)"),
        _text("detail", "the reason in words"),
        _utc("share_start_utc", "split pass: the lander's share starts (empty otherwise)"),
        _utc("share_end_utc", "split pass: the lander's share ends (empty otherwise)"),
        Column("share_start_tdb_s", "float", "s", "split pass: share starts (TDB s past J2000)",
               3, utc_partner="share_start_utc"),
        Column("share_end_tdb_s", "float", "s", "split pass: share ends (TDB s past J2000)", 3,
               utc_partner="share_end_utc"),
        _num("share_volume_bits", "bit", "split pass: the share's link capacity", 0),
        _num("split_with", "", "split pass: pass_id of the other lander's pass on the rest of "
             "the overflight (empty when none)", 0),
    ),
)

SCHEDULE_SOLS = TableSpec(
    "schedule_sols", "schedule",
    "Planned delivery per lander and local sol against its demand.",
    (
        _text("lander", "the lander"),
        _int("sol", "", "local sol (Mars Sol Date at the lander's longitude)"),
        _utc("start_utc", "the sol's LMST midnight (or the span's start)"),
        _utc("end_utc", "the next LMST midnight (or the span's end)"),
        _utc("deadline_utc", "the sol's data must be home by then"),
        _num("demand_bits", "bit", "the lander's demand in the sol", 0),
        _num("delivered_bits", "bit", "planned delivery of the sol's data by its deadline", 0),
        _num("shortfall_bits", "bit", "demand - delivered", 0),
        _text("binding", "the constraint that limited the sol (empty when demand is met)"),
        _text("detail", "the binding constraint in words"),
    ),
)

BUNDLES = TableSpec(
    "bundles", "simulation",
    "Every data bundle from its creation to its end: delivered to an Earth station, dropped, "
    "or still stored somewhere when the span ends.",
    (
        _int("bundle_id", "", "bundle number, in creation order"),
        _text("source", "the lander that created it"),
        _int("priority", "", "0 bulk, 1 normal, 2 expedited (higher goes first)"),
        _num("size_bits", "bit", "bundle size"),
        _text("product", "the data product it belongs to"),
        _utc("created_utc", "created"),
        _utc("done_utc", "delivered (status delivered) or dropped (status dropped); empty "
             "while stored"),
        _text("status", "delivered | dropped | stored"),
        _text("drop_reason", "why it was dropped (empty otherwise)"),
        _text("node", "where it is at the end: the station that received it, or the node "
              "holding or dropping it"),
        _num("latency_s", "s", "done - created for delivered bundles (empty otherwise)"),
        _int("n_hops", "", "contacts it crossed"),
        _text("path", "nodes it crossed, source first, joined by '>'"),
        _text("relay", "the orbiter of its first hop (empty for direct-to-Earth)"),
        _tdb("created_tdb_s", "created"),
        _tdb("expiry_tdb_s", "its lifetime ends (dropped as expired after)"),
        _tdb("done_tdb_s", "delivered or dropped"),
    ),
)

DELIVERY = TableSpec(
    "delivery", "simulation",
    "Data per lander and local sol: generated in the sol, delivered to Earth in the sol (which "
    "includes data generated in earlier sols, so it can exceed what the sol generated), and "
    "of the sol's own data how much was delivered by the end of the span.",
    (
        _text("lander", "the lander"),
        _int("sol", "", "local sol (Mars Sol Date at the lander's longitude)"),
        _utc("start_utc", "the sol's LMST midnight (or the span's start)"),
        _utc("end_utc", "the next LMST midnight (or the span's end)"),
        _num("generated_bits", "bit", "data created in the sol"),
        _num("delivered_bits", "bit", "data that reached Earth in the sol, whenever created"),
        _num("delivered_of_generated_bits", "bit",
             "of the data created in the sol, how much reached Earth by the end of the span"),
        _num("latency_p50_s", "s", "median latency of the sol's delivered data"),
        _num("latency_p95_s", "s", "95th percentile latency of the sol's delivered data"),
    ),
)

LATENCY = TableSpec(
    "latency", "simulation",
    "Latency (creation to delivery on Earth) per source and priority, then over all bundles "
    "(source and priority 'all').",
    (
        _text("source", "the lander, or 'all'"),
        _text("priority", "bulk | normal | expedited, or 'all'"),
        _int("bundles", "", "bundles created"),
        _int("delivered", "", "bundles delivered"),
        _num("p50_s", "s", "median latency of the delivered ones"),
        _num("p95_s", "s", "95th percentile"),
        _num("max_s", "s", "largest"),
    ),
)

BUFFERS = TableSpec(
    "buffers", "simulation",
    "Storage in use per lander and orbiter, sampled every [simulation] buffer_sample_s.",
    (
        _text("node", "the lander or orbiter"),
        _utc("time_utc", "sample time"),
        Column("time_tdb_s", "float", "s", "sample time (TDB s past J2000)",
               utc_partner="time_utc"),
        _num("used_bits", "bit", "storage in use at the sample time"),
        _num("peak_bits", "bit", "largest use since the previous sample"),
        _num("capacity_bits", "bit", "the node's storage (empty: unlimited)"),
    ),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    CONTACTS, CONJUNCTION, VOLUMES_PER_SOL, SCHEDULE, SCHEDULE_SOLS, BUNDLES, DELIVERY, LATENCY,
    BUFFERS,
)

#: The validated scenario the run used (JSON: UTC strings and TDB seconds).
SCENARIO_JSON = "scenario.json"
#: The run's record: status, scenario hash, versions, timings, file list.
RUN_JSON = "run.json"
#: The self-contained HTML report.
REPORT_HTML = "report.html"


def outputs_markdown() -> str:
    """``docs/outputs.md``'s table section: every table, its columns with units and meaning."""
    lines = []
    for spec in ALL_TABLES:
        lines += [f"### `{spec.csv_file}` and `{spec.parquet_file}` ({spec.stage} stage)", "",
                  spec.description, "", "| column | unit | meaning |", "|---|---|---|"]
        for c in spec.columns:
            where = " (Parquet only)" if c.parquet_only else ""
            text = c.description.replace("|", "\\|")
            lines.append(f"| `{c.name}` | {c.unit or '-'} | {text}{where} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(outputs_markdown())
