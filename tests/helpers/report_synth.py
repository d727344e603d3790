"""Synthetic run directories for the report and comparison tests.

Files follow the run-folder schema (:mod:`marsrelay.rundir.schema`: contacts, conjunction,
volumes_per_sol, schedule, bundles, delivery, scenario.json, run.json), written with the
project's table writer. The relay
passes come from the orbits (elevation above a 10 deg mask, sampled every 10 s), Earth windows
and rates are made up; the data flow is self-consistent: each bundle rides the first relay pass
after its creation and reaches Earth in that orbiter's next Earth window, so the data-flow files
agree with the contacts. Nothing here calls marsrelay's report code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from marsrelay.geometry.orbits import J2Orbit, MeanElements
from marsrelay.geometry.rotation import rotation_model
from marsrelay.geometry.sites import MarsSite
from marsrelay.geometry.solar_time import local_sol
from marsrelay.geometry.time import utc_to_tdb
from marsrelay.rundir import schema
from marsrelay.rundir.folder import write_run_record
from marsrelay.rundir.tables import OutputTable, utc_column, write_table

START_UTC = "2030-11-01T00:00:00Z"
END_UTC = "2030-11-03T00:00:00Z"

# Orbits and sites: approximate figures of the project's reference facts (TGO ~400 km, i 74 deg;
# MRO ~255 x 320 km, i 92.6 deg; Oxia Planum and Gale crater sites).
ORBITERS = {
    "TGO": {"a_km": 3796.19, "e": 0.0, "i_deg": 74.0, "raan_deg": 30.0, "argp_deg": 0.0,
            "mean_anomaly_deg": 0.0},
    "MRO": {"a_km": 3683.69, "e": 0.008823, "i_deg": 92.6, "raan_deg": 320.5,
            "argp_deg": 270.0, "mean_anomaly_deg": 90.0},
}
LANDERS = {
    "Rosalind Franklin": (18.275, 335.368),
    "Curiosity": (-4.5895, 137.4417),
}
STATIONS = {"DSS-43": (-35.4040, 148.9801), "DSA-2": (40.4527, 355.6324)}


def scenario_dict(name: str, orbiters: list[str]) -> dict:
    """A flat scenario.json (the shape ``Scenario.to_dict`` writes)."""
    t0 = float(utc_to_tdb(START_UTC))
    return {
        "name": name,
        "description": "Synthetic two-day run for the report tests",
        "path": None,
        "start_utc": START_UTC,
        "end_utc": END_UTC,
        "start_tdb_s": t0,
        "end_tdb_s": float(utc_to_tdb(END_UTC)),
        "rotation_model": "iau2009",
        "conjunction_sep_deg": 2.0,
        "orbiters": [
            {"name": o, "agency": "ESA" if o == "TGO" else "NASA",
             "elements": {"epoch_tdb_s": t0, **ORBITERS[o]}}
            for o in orbiters
        ],
        "landers": [
            {"name": n, "agency": "ESA", "lat_deg": lat, "lon_east_deg": lon,
             "height_km": 0.0, "elevation_mask_deg": 10.0}
            for n, (lat, lon) in LANDERS.items()
        ],
        "stations": [
            {"name": n, "agency": "NASA", "lat_deg": lat, "lon_east_deg": lon, "height_m": 0.0,
             "elevation_mask_deg": 10.0}
            for n, (lat, lon) in STATIONS.items()
        ],
    }


def _contacts(rng: np.random.Generator, orbiters: list[str]) -> dict[str, np.ndarray]:
    t0, t1 = float(utc_to_tdb(START_UTC)), float(utc_to_tdb(END_UTC))
    rows: list[tuple] = []
    rot = rotation_model("iau2009")
    t = np.arange(t0, t1, 10.0)
    body_of = {}
    for orb in orbiters:
        pos, _ = J2Orbit(MeanElements(t0, **ORBITERS[orb]), rot).state_km(t)
        body_of[orb] = np.einsum("nij,nj->ni", rot.icrf_to_body(t), pos)
    for lander, (lat, lon) in LANDERS.items():
        site = MarsSite(lander, lat, lon, 0.0, 10.0)
        for orb in orbiters:
            view = site.azel_of_body_fixed(body_of[orb])
            up = (view.elevation_deg >= 10.0) & (view.range_km <= 5000.0)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], up.astype(int), [0]])))
            for a, b in zip(edges[0::2], edges[1::2], strict=True):
                s, e = t[a], t[b - 1]
                if e - s < 60.0:
                    continue
                dur = e - s
                rate = rng.choice([256e3, 512e3, 1024e3, 2048e3])
                rows.append((lander, orb, "proximity", s, e,
                             float(view.elevation_deg[a:b].max()),
                             float(view.range_km[a:b].min()), float(view.range_km[a:b].max()),
                             0.0, rate, rate * dur))
    for orb in orbiters:
        for k, st in enumerate(STATIONS):
            s = t0 + 3 * 3600 * k + rng.uniform(0, 1800)
            while s < t1 - 3600:
                dur = rng.uniform(3000, 5000)
                rows.append((orb, st, "orbiter_earth", s, min(s + dur, t1), rng.uniform(15, 70),
                             2.9e8, 2.9e8, 967.0, 2e6, 2e6 * dur))
                s += rng.uniform(6, 9) * 3600
    for s in (t0 + 10 * 3600, t0 + 34 * 3600):
        rows.append(("Curiosity", "DSS-43", "direct_earth", s, s + 1800, 40.0, 2.9e8, 2.9e8,
                     967.0, 1e3, 1.8e6))
    rows.sort(key=lambda r: (r[3], r[0], r[1]))
    cols = list(zip(*rows, strict=True))
    names = ["source", "target", "kind", "start_tdb_s", "end_tdb_s", "max_elevation_deg",
             "min_range_km", "max_range_km", "owlt_s", "rate_bps_mean", "volume_bits"]
    return {n: np.array(c, dtype=object if n in ("source", "target", "kind") else float)
            for n, c in zip(names, cols, strict=True)}


def _table(spec, **cols) -> OutputTable:
    """An output table of ``spec`` from the given columns (UTC columns from their TDB
    partners, missing ones filled with NaN or empty texts)."""
    n = len(next(iter(cols.values())))
    out = {}
    for col in spec.columns:
        if col.name in cols:
            out[col.name] = np.asarray(cols[col.name])
        elif col.type == "utc" and col.name.replace("_utc", "_tdb_s") in cols:
            out[col.name] = utc_column(np.asarray(cols[col.name.replace("_utc", "_tdb_s")]))
        elif col.type in ("text", "utc"):
            out[col.name] = np.full(n, "", dtype=object)
        elif col.type == "int":
            out[col.name] = np.zeros(n, dtype=np.int64)
        else:
            out[col.name] = np.full(n, np.nan)
    return OutputTable(spec, out)


def write_run(
    run_dir: Path,
    name: str = "synth-a",
    orbiters: tuple[str, ...] = ("TGO", "MRO"),
    seed: int = 1,
    simulation: bool = True,
    conjunction: tuple[str, str] | None = None,
) -> Path:
    """Write a synthetic run folder; ``simulation=False`` stops after the contacts."""
    run_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    c = _contacts(rng, list(orbiters))
    (run_dir / "scenario.json").write_text(json.dumps(scenario_dict(name, list(orbiters))))
    mid = 0.5 * (c["start_tdb_s"] + c["end_tdb_s"])
    write_table(run_dir, _table(
        schema.CONTACTS, **c, duration_s=c["end_tdb_s"] - c["start_tdb_s"],
        max_elevation_tdb_s=mid))
    if conjunction is not None:
        a, b = (float(x) for x in utc_to_tdb(list(conjunction)))
        write_table(run_dir, _table(schema.CONJUNCTION, start_tdb_s=[a], end_tdb_s=[b],
                                    duration_s=[b - a], threshold_deg=[2.0]))
    if not simulation:
        write_run_record(run_dir, name, ("contacts",), {})
        return run_dir
    t0, t1 = float(utc_to_tdb(START_UTC)), float(utc_to_tdb(END_UTC))
    prox = c["kind"] == "proximity"
    earth = c["kind"] == "orbiter_earth"
    # volumes per sol (per lander, orbiter, local sol)
    v: dict[str, list] = {k: [] for k in ("lander", "partner", "sol", "volume_bits", "passes",
                                          "contact_s")}
    for lander, (_, lon) in LANDERS.items():
        for orb in orbiters:
            m = prox & (c["source"] == lander) & (c["target"] == orb)
            sols = local_sol(c["start_tdb_s"][m], lon)
            for s in np.unique(sols):
                mm = sols == s
                dur = (c["end_tdb_s"] - c["start_tdb_s"])[m][mm]
                for key, val in (("lander", lander), ("partner", orb), ("sol", int(s)),
                                 ("volume_bits", float(c["volume_bits"][m][mm].sum())),
                                 ("passes", int(mm.sum())), ("contact_s", float(dur.sum()))):
                    v[key].append(val)
    write_table(run_dir, _table(
        schema.VOLUMES_PER_SOL, **v, kind=np.full(len(v["sol"]), "proximity", dtype=object),
        volume_adr_bits=v["volume_bits"], volume_fixed_bits=v["volume_bits"]))
    # bundles: 20 Mbit every 30 min per lander, first relay pass after creation, then that
    # orbiter's next Earth window (+ light time)
    b_lander, b_created, b_relay, b_deliv = [], [], [], []
    used = set()
    for lander in LANDERS:
        mp = np.flatnonzero(prox & (c["source"] == lander))
        for tc in np.arange(t0, t1, 1800.0):
            nxt = mp[c["start_tdb_s"][mp] >= tc]
            relay, deliv = "", np.nan
            if nxt.size:
                k = nxt[0]
                used.add(int(k))
                relay, rx = c["target"][k], c["end_tdb_s"][k]
                me = np.flatnonzero(earth & (c["source"] == relay) & (c["start_tdb_s"] >= rx))
                if me.size:
                    used.add(int(me[0]))
                    deliv = c["start_tdb_s"][me[0]] + 967.0 + rng.uniform(0, 600)
            b_lander.append(lander)
            b_created.append(tc)
            b_relay.append(relay)
            b_deliv.append(deliv)
    created = np.array(b_created)
    delivered = np.array(b_deliv)
    ok = np.isfinite(delivered)
    n_b = created.size
    write_table(run_dir, _table(
        schema.BUNDLES, bundle_id=np.arange(n_b), source=np.array(b_lander, dtype=object),
        priority=np.ones(n_b, dtype=np.int64), size_bits=np.full(n_b, 20e6),
        created_tdb_s=created, done_tdb_s=delivered,
        status=np.where(ok, "delivered", "stored").astype(object),
        latency_s=np.where(ok, delivered - created, np.nan),
        relay=np.array(b_relay, dtype=object), expiry_tdb_s=np.full(n_b, np.inf)))
    # delivery per lander and local sol of delivery
    d: dict[str, list] = {k: [] for k in ("lander", "sol", "delivered_bits", "latency_p50_s",
                                          "latency_p95_s")}
    lander_arr = np.array(b_lander, dtype=object)
    for lander, (_, lon) in LANDERS.items():
        m = (lander_arr == lander) & ok
        sols = local_sol(delivered[m], lon)
        lat = (delivered - created)[m]
        for s in np.unique(sols):
            mm = sols == s
            for key, val in (("lander", lander), ("sol", int(s)),
                             ("delivered_bits", 20e6 * int(mm.sum())),
                             ("latency_p50_s", float(np.percentile(lat[mm], 50))),
                             ("latency_p95_s", float(np.percentile(lat[mm], 95)))):
                d[key].append(val)
    write_table(run_dir, _table(schema.DELIVERY, **d))
    sel = np.array(sorted(k for k in used if prox[k]), dtype=np.int64)
    write_table(run_dir, _table(
        schema.SCHEDULE, pass_id=sel, lander=c["source"][sel], orbiter=c["target"][sel],
        status=np.full(sel.size, "selected", dtype=object), start_tdb_s=c["start_tdb_s"][sel],
        end_tdb_s=c["end_tdb_s"][sel], volume_bits=c["volume_bits"][sel],
        planned_bits=c["volume_bits"][sel]))
    write_run_record(run_dir, name, ("contacts", "links", "schedule", "simulation"), {})
    return run_dir
