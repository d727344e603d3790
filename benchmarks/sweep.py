"""Benchmark of the sweep engine: prints ONE JSON line.

A landing-site trade study on ``exomars-2030`` (TGO, MRO, MAVEN; Rosalind Franklin): a grid of
25 latitudes (-60..60 deg) x 40 east longitudes (0..351 deg) = 1000 sites, each case 30 days
(the scenario's span), figures passes/sol, contact min/sol, longest gap and proximity data
volume/sol (the default case function: contacts + links, stations left out as no Earth figure is
asked). The same sweep runs serially in this process (``workers=0``) and on a LocalCluster of
``--workers`` processes (``marsrelay.sweep.run.local_cluster``: one thread each; cluster
start-up included in the Dask time and also reported alone), each into a fresh output folder;
the two results.parquet must be equal.

``--cases N`` runs the first N cases of the grid only; the JSON then says ``subset: true`` and
``extrapolated_*_s`` give the full sweep's times at the measured per-case rates.

Keys: cases, total_cases, subset, days_per_case, workers, serial_s, dask_s, dask_startup_s,
serial_cases_per_s, dask_cases_per_s, scaling_efficiency (dask rate / (workers x serial rate)),
results_equal, extrapolated_serial_s, extrapolated_dask_s, cpus, load_avg_1min_at_start (the
machine's load before the run: other processes skew both timings), serial_cpu_per_wall (CPU
time of the serial run over its wall time: below 1 means other processes took the CPU),
dask_cases_per_s_after_startup; plain_serial_cases_per_s and plain_pool_cases_per_s (the case
function alone on 100 cases, in this process and in a pool of --workers plain processes),
machine_parallel_speedup (their ratio: what this machine gives that many CPU-bound processes)
and efficiency_vs_plain_pool (Dask rate after start-up over the plain pool's rate).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from marsrelay.sweep import load_sweep, run_sweep
from marsrelay.sweep.run import local_cluster

SWEEP = """\
[sweep]
name = "landing-sites"
base = "exomars-2030"
figures = ["passes_per_sol", "contact_min_per_sol", "max_gap_h", "capacity_mbit_per_sol"]

[[axis]]
path = 'lander["Rosalind Franklin"].lat_deg'
start = -60.0
stop = 60.0
num = 25

[[axis]]
path = 'lander["Rosalind Franklin"].lon_east_deg'
start = 0.0
stop = 351.0
num = 40
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1000, help="run the first N cases only")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    load_before = os.getloadavg()[0]  # other work on the machine skews both timings

    with tempfile.TemporaryDirectory(prefix="marsrelay-bench-sweep-") as tmp:
        folder = Path(tmp)
        path = folder / "sites.toml"
        path.write_text(SWEEP, encoding="utf-8")
        full = load_sweep(path)
        n = min(args.cases, len(full.cases))
        sweep = full if n == len(full.cases) else _first(full, n)
        days = (sweep.cases[0].scenario().duration_s) / 86400.0

        t0, c0 = time.perf_counter(), time.process_time()
        serial = run_sweep(sweep, folder / "serial", workers=0)
        serial_s = time.perf_counter() - t0
        serial_cpu = (time.process_time() - c0) / serial_s

        from distributed import Client

        t0 = time.perf_counter()
        cluster = local_cluster(args.workers)
        with Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(args.workers)
            startup_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            dask = run_sweep(sweep, folder / "dask", scheduler=cluster.scheduler_address)
            compute_s = time.perf_counter() - t1
        cluster.close()
        dask_s = startup_s + compute_s
        equal = pq.read_table(serial.results_path).equals(pq.read_table(dask.results_path))
        assert serial.n_failed == 0 and dask.n_failed == 0, (serial.errors, dask.errors)

    pool_rate, plain_rate = _plain_process_rates(sweep, args.workers)
    serial_rate = n / serial_s
    dask_rate = n / dask_s
    total = len(full.cases)
    print(json.dumps({
        "benchmark": "sweep",
        "cases": n,
        "total_cases": total,
        "subset": n < total,
        "days_per_case": round(days, 3),
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "load_avg_1min_at_start": round(load_before, 2),
        "serial_cpu_per_wall": round(serial_cpu, 3),
        "serial_s": round(serial_s, 3),
        "dask_s": round(dask_s, 3),
        "dask_startup_s": round(startup_s, 3),
        "serial_cases_per_s": round(serial_rate, 3),
        "dask_cases_per_s": round(dask_rate, 3),
        "dask_cases_per_s_after_startup": round(n / compute_s, 3),
        "scaling_efficiency": round(dask_rate / (args.workers * serial_rate), 3),
        "results_equal": bool(equal),
        "plain_serial_cases_per_s": round(plain_rate, 3),
        "plain_pool_cases_per_s": round(pool_rate, 3),
        "machine_parallel_speedup": round(pool_rate / plain_rate, 3),
        "efficiency_vs_plain_pool": round(n / compute_s / pool_rate, 3),
        "extrapolated_serial_s": round(total / serial_rate, 1),
        "extrapolated_dask_s": round(startup_s + total * compute_s / n, 1),
    }))


def _plain_process_rates(sweep, workers: int, n: int = 100) -> tuple[float, float]:
    """Cases/s of the bare case function on ``n`` cases: in a pool of ``workers`` plain
    processes (no Dask, no output files) and in this process. Their ratio is what this
    machine gives ``workers`` CPU-bound processes (2 vCPUs need not give 2x)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from marsrelay.sweep.case import evaluate_case

    cases = list(sweep.cases[:n])
    for case in cases[:3]:
        evaluate_case(case)
    t0 = time.perf_counter()
    for case in cases:
        evaluate_case(case)
    plain = len(cases) / (time.perf_counter() - t0)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(evaluate_case, cases[:2 * workers], chunksize=1))  # warm up
        t0 = time.perf_counter()
        list(pool.map(evaluate_case, cases, chunksize=max(1, len(cases) // (8 * workers))))
        pooled = len(cases) / (time.perf_counter() - t0)
    return pooled, plain


def _first(sweep, n: int):
    """The sweep restricted to its first ``n`` cases (same ids, same base)."""
    import dataclasses

    return dataclasses.replace(sweep, cases=sweep.cases[:n])


if __name__ == "__main__":
    main()
