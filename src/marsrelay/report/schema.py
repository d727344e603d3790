"""What the report and the comparison read from a run directory: file names, column names and
their units, defined here once.

A run directory holds the outputs of the stages that ran (contacts -> links -> schedule ->
simulation). Every file but the contacts table is optional: a report section whose file is
missing says "not computed in this run". Where a stage's column names are not settled, a
column lists the names it accepts (``aliases``), each with the factor that turns that column
into the canonical unit (``("volume_mbit", 1e6)`` reads Mbit as bits).

Times: ``*_tdb_s`` columns are TDB seconds past J2000, ``*_utc`` columns ISO 8601 UTC strings;
a reader takes whichever the file has.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL_TABLES",
    "BUFFERS",
    "BUNDLES",
    "CONJUNCTION",
    "CONTACTS",
    "DELIVERY",
    "EARTH_KINDS",
    "PROXIMITY",
    "SCENARIO_JSON",
    "SCENARIO_KEYS",
    "SCENARIO_TOML",
    "SCHEDULE",
    "VOLUMES_PER_SOL",
    "Column",
    "TableFile",
]

#: ``kind`` values of the contact table (:data:`marsrelay.contacts.table.CONTACT_KINDS`).
PROXIMITY = "proximity"
EARTH_KINDS: tuple[str, ...] = ("orbiter_earth", "direct_earth")


@dataclass(frozen=True)
class Column:
    """One logical column: canonical ``name`` (with its unit in the name), the other names a
    file may use with their factor to the canonical unit, and whether the table needs it."""

    name: str
    aliases: tuple[tuple[str, float], ...] = ()
    required: bool = True
    text: bool = False

    def candidates(self) -> tuple[tuple[str, float], ...]:
        """``(file column name, factor to canonical unit)`` pairs, preferred first."""
        return ((self.name, 1.0), *self.aliases)


@dataclass(frozen=True)
class TableFile:
    """A table file of a run directory: file names tried in order (Parquet before CSV) and
    its columns. ``times`` are the pairs of (TDB s, UTC) columns of which one must exist."""

    key: str
    files: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str
    times: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        """The column named ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.key} has no column {name!r}")


def _t(name: str, required: bool = True) -> Column:
    return Column(name, required=required, text=True)


def _f(name: str, *aliases: tuple[str, float], required: bool = True) -> Column:
    return Column(name, tuple(aliases), required=required)


#: A window's start and end columns, UTC and TDB s (each optional), and their UTC/TDB pairs.
_WINDOW_EDGES: tuple[Column, ...] = (
    _t("start_utc", required=False),
    _t("end_utc", required=False),
    _f("start_tdb_s", required=False),
    _f("end_tdb_s", required=False),
)
_WINDOW_TIMES: tuple[tuple[str, str], ...] = (
    ("start_tdb_s", "start_utc"),
    ("end_tdb_s", "end_utc"),
)


#: ``contacts.parquet`` / ``contacts.csv``: the :class:`~marsrelay.contacts.table.ContactTable`
#: columns (``CSV_COLUMNS``); Parquet adds ``start_tdb_s``/``end_tdb_s``.
CONTACTS = TableFile(
    "contacts",
    ("contacts.parquet", "contacts.csv"),
    (
        _t("source"),
        _t("target"),
        _t("kind"),
        *_WINDOW_EDGES,
        _f("duration_s", required=False),
        _f("max_elevation_deg", required=False),
        _f("min_range_km", required=False),
        _f("max_range_km", required=False),
        _f("owlt_s", required=False),
        _f("rate_bps_mean", required=False),
        _f("volume_bits", required=False),
    ),
    "visibility windows of every pair (contacts stage; links stage fills rate and volume)",
    times=_WINDOW_TIMES,
)

#: ``volumes_per_sol.csv``: link capacity per lander, relay and local sol (links stage).
VOLUMES_PER_SOL = TableFile(
    "volumes_per_sol",
    ("volumes_per_sol.parquet", "volumes_per_sol.csv"),
    (
        Column("lander", (("source", 1.0), ("node", 1.0)), text=True),
        Column("orbiter", (("partner", 1.0), ("target", 1.0), ("relay", 1.0)), required=False,
               text=True),
        _t("kind", required=False),
        _f("sol", ("local_sol", 1.0), ("sol_index", 1.0)),
        _f("volume_bits", ("capacity_bits", 1.0), ("volume_mbit", 1e6)),
        _f("passes", ("n_passes", 1.0), ("contacts", 1.0), required=False),
        _f("contact_s", ("duration_s", 1.0), required=False),
    ),
    "link volume (capacity) per lander and sol (links stage)",
)

#: ``schedule.csv``: candidate passes of the schedule stage; rows whose ``status`` is not
#: ``selected`` (when the file has a status) are passes it did not take.
SCHEDULE = TableFile(
    "schedule",
    ("schedule.parquet", "schedule.csv"),
    (
        Column("source", (("lander", 1.0),), text=True),
        Column("target", (("orbiter", 1.0), ("partner", 1.0)), text=True),
        _t("kind", required=False),
        _t("status", required=False),
        *_WINDOW_EDGES,
        _f("volume_bits", ("planned_bits", 1.0), ("planned_volume_bits", 1.0), required=False),
    ),
    "selected passes (schedule stage)",
    times=_WINDOW_TIMES,
)

#: ``bundles.parquet``: one row per data bundle (simulation stage). ``delivered_tdb_s`` is NaN
#: for bundles still in the network at the end; with a ``status`` column only ``delivered``
#: bundles count as delivered (``done_tdb_s`` is then also the time a bundle was dropped).
#: ``relay``/``relay_rx_tdb_s``, when present, say which orbiter carried the bundle and when it
#: left the lander (buffer occupancy per node).
BUNDLES = TableFile(
    "bundles",
    ("bundles.parquet", "bundles.csv"),
    (
        Column("lander", (("source", 1.0), ("origin", 1.0)), text=True),
        _f("size_bits", ("bits", 1.0), ("volume_bits", 1.0), ("size_bytes", 8.0)),
        _f("created_tdb_s", ("created_s", 1.0), ("generated_tdb_s", 1.0), required=False),
        _t("created_utc", required=False),
        _f("delivered_tdb_s", ("delivered_s", 1.0), ("received_tdb_s", 1.0),
           ("done_tdb_s", 1.0), required=False),
        _t("delivered_utc", required=False),
        _t("status", required=False),
        _f("latency_s", ("delivery_latency_s", 1.0), required=False),
        Column("relay", (("orbiter", 1.0), ("via", 1.0)), required=False, text=True),
        _f("relay_rx_tdb_s", ("uplink_tdb_s", 1.0), ("relayed_tdb_s", 1.0), required=False),
    ),
    "data bundles from creation to delivery on Earth (simulation stage)",
    times=(("created_tdb_s", "created_utc"),),
)

#: ``delivery.csv``: data delivered to Earth per lander and local sol (simulation stage).
DELIVERY = TableFile(
    "delivery",
    ("delivery.parquet", "delivery.csv"),
    (
        Column("lander", (("source", 1.0), ("node", 1.0)), text=True),
        _f("sol", ("local_sol", 1.0), ("sol_index", 1.0)),
        _f("delivered_bits", ("returned_bits", 1.0), ("volume_bits", 1.0),
           ("delivered_mbit", 1e6)),
        _f("generated_bits", ("created_bits", 1.0), ("generated_mbit", 1e6), required=False),
        _f("latency_p50_s", ("latency_median_s", 1.0), required=False),
        _f("latency_p95_s", required=False),
    ),
    "data delivered to Earth per lander and sol (simulation stage)",
)

#: ``buffers.parquet`` (optional): stored data per node over time (simulation stage). Without
#: it, the report derives occupancy from ``bundles.parquet``.
BUFFERS = TableFile(
    "buffers",
    ("buffers.parquet", "buffers.csv"),
    (
        Column("node", (("name", 1.0),), text=True),
        _f("time_tdb_s", ("t_tdb_s", 1.0), ("tdb_s", 1.0), required=False),
        _t("time_utc", required=False),
        _f("occupancy_bits", ("used_bits", 1.0), ("buffer_bits", 1.0), ("stored_bits", 1.0),
           ("occupancy_mbit", 1e6)),
        _f("capacity_bits", ("max_bits", 1.0), required=False),
    ),
    "stored data per node over time (simulation stage)",
    times=(("time_tdb_s", "time_utc"),),
)

#: ``conjunction.csv`` (optional): windows when the Sun-Earth-Mars angle is below the
#: scenario's threshold (contacts stage).
CONJUNCTION = TableFile(
    "conjunction",
    ("conjunction.parquet", "conjunction.csv"),
    (
        *_WINDOW_EDGES,
        _f("min_sep_deg", required=False),
    ),
    "solar conjunction windows (Earth links blocked)",
    times=_WINDOW_TIMES,
)

ALL_TABLES: tuple[TableFile, ...] = (
    CONTACTS, VOLUMES_PER_SOL, SCHEDULE, BUNDLES, DELIVERY, BUFFERS, CONJUNCTION,
)

#: ``scenario.json``: the scenario the run used. Accepted shapes: flat (``name``, ``start_utc``,
#: ``orbiters``, ...) or the TOML layout (``scenario`` table, ``orbiter``/``lander``/``station``
#: lists); a lander's site fields may sit in a nested ``site`` table.
SCENARIO_JSON = "scenario.json"
#: A copy of the scenario file, preferred over ``scenario.json`` when a run directory has it.
SCENARIO_TOML = "scenario.toml"

#: Keys read from ``scenario.json``: logical name -> accepted keys, preferred first.
SCENARIO_KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "description": ("description",),
    "path": ("path", "source", "scenario_path"),
    "start_utc": ("start_utc", "start"),
    "end_utc": ("end_utc", "end"),
    "start_tdb_s": ("start_tdb_s",),
    "end_tdb_s": ("end_tdb_s",),
    "rotation_model": ("rotation_model",),
    "conjunction_sep_deg": ("conjunction_sep_deg",),
    "conjunction_windows": ("conjunction_windows", "conjunctions"),
    "orbiters": ("orbiters", "orbiter"),
    "landers": ("landers", "lander"),
    "stations": ("stations", "station"),
    "elements": ("elements",),
    "epoch_utc": ("epoch_utc", "epoch"),
    "epoch_tdb_s": ("epoch_tdb_s",),
    "lat_deg": ("lat_deg",),
    "lon_east_deg": ("lon_east_deg",),
    "elevation_mask_deg": ("elevation_mask_deg",),
    "agency": ("agency",),
}

