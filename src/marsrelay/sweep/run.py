"""Run a sweep: every case through a case function, locally or on a Dask cluster, resumable.

Output folder layout (every file written atomically with :mod:`marsrelay.io`)::

    DIR/sweep_manifest.json          the sweep's fingerprint and case ids (guards resuming)
    DIR/results/part-<case_id>.parquet   one per finished case, written as it finishes
    DIR/errors/<case_id>.json        one per failed case (removed once the case succeeds)
    DIR/results.parquet              all finished cases, in case order
    DIR/errors.parquet, errors.csv   failed cases with their error (only if any failed)
    DIR/sweep_summary.csv            per-figure statistics over all rows

A case is complete when its partition exists, so a re-run of the same command (after Ctrl-C, a
killed worker or a killed client) computes only the missing or failed cases; a partition is
written once, by the client, with the case id in its name, so no case appears twice.

Execution: ``workers=0`` runs the cases in this process (no Dask). Otherwise the cases are Dask
tasks (``retries`` re-runs a raising case; a case whose worker dies is re-scheduled by Dask up
to ``distributed.scheduler.allowed-failures`` times), on an existing scheduler (``scheduler=
"tcp://host:8786"``) or on a ``LocalCluster`` of ``workers`` processes with one thread each
(default: one per CPU).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pkgutil
import socket
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from marsrelay.errors import InputError
from marsrelay.io import atomic_write_text, atomic_write_with
from marsrelay.sweep.case import CASE_FUNCTIONS, Case, CaseFunction, CaseResult
from marsrelay.sweep.spec import Sweep

__all__ = [
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "CaseError",
    "Progress",
    "SweepOutcome",
    "case_table",
    "local_cluster",
    "resolve_case_function",
    "run_sweep",
]

MANIFEST_NAME = "sweep_manifest.json"
#: Times a case whose finished result could not be fetched is submitted again.
MAX_RESUBMITS = 3
#: Largest number of cases in one Dask task (see :func:`auto_chunk_size`).
MAX_CHUNK = 16
_FETCH_TIMEOUT_S = 300.0
_MANIFEST_FORMAT = 1
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseError:
    """A case that failed after its retries: the exception's type, message and traceback."""

    case_id: str
    index: int
    params_json: str
    error_type: str
    message: str
    traceback: str


@dataclass(frozen=True)
class Progress:
    """Progress report passed to ``on_progress``: cases finished (ok or failed) of ``total``."""

    done: int
    failed: int
    total: int
    case_id: str | None = None


@dataclass(frozen=True)
class SweepOutcome:
    """What a run did. Counts are of cases; paths point into the output folder."""

    out_dir: Path
    n_cases: int
    n_skipped: int
    n_computed: int
    n_failed: int
    errors: tuple[CaseError, ...]
    results_path: Path
    summary_path: Path
    errors_path: Path | None
    elapsed_s: float
    workers: int

    @property
    def complete(self) -> bool:
        """True when every case of the sweep has a result."""
        return self.n_failed == 0


#: The group in which installed packages register case functions (``pyproject.toml``:
#: ``[project.entry-points."marsrelay.sweep_cases"] name = "package.module:function"``).
ENTRY_POINT_GROUP = "marsrelay.sweep_cases"


def resolve_case_function(ref: str, *, allow_code: bool = False) -> CaseFunction:
    """The case function ``ref`` names: one of marsrelay's (:data:`CASE_FUNCTIONS`), one an
    installed package registers under the entry-point group ``marsrelay.sweep_cases``, or,
    only with ``allow_code``, any importable ``"module:function"``.

    A sweep file can come from anyone: naming arbitrary code (``os:system``) needs the user's
    explicit ``--allow-code``. Raises :class:`InputError` naming what is allowed.
    """
    if ref in CASE_FUNCTIONS:
        return CASE_FUNCTIONS[ref]
    registered = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    names = sorted({*CASE_FUNCTIONS, *registered})
    allowed = (f"one of {', '.join(names)} (entry points of group {ENTRY_POINT_GROUP!r} add "
               "more), or any 'module:function' with --allow-code")
    obj: Any
    if ref in registered:
        obj = registered[ref].load()
    elif ":" not in ref:
        raise InputError(f"unknown case function {ref!r}", field="sweep.case", allowed=allowed)
    elif not allow_code:
        raise InputError(f"case function {ref!r} is arbitrary code, not a registered case "
                         "function", field="sweep.case", allowed=allowed)
    else:
        try:
            obj = pkgutil.resolve_name(ref)
        except (ImportError, AttributeError, ValueError) as err:
            raise InputError(f"cannot import case function {ref!r}: {err}",
                             field="sweep.case", allowed="an importable 'module:function'"
                             ) from None
    if not callable(obj):
        raise InputError(f"case function {ref!r} is not callable", field="sweep.case",
                         allowed=allowed)
    return obj


def _call_case(fn: CaseFunction, case: Case) -> CaseResult:
    """Evaluate one case (runs on a worker)."""
    result = fn(case)
    if not isinstance(result, CaseResult):
        raise TypeError(f"case function returned {type(result).__name__}, expected CaseResult")
    return result


def _param_cell(value: Any) -> Any:
    """A parameter value as stored in a Parquet column (lists as JSON text, numbers as float)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    return json.dumps(value)


def case_table(sweep: Sweep, case: Case, result: CaseResult) -> pa.Table:
    """One partition: a row per lander with the case id, the parameters and the figures."""
    n = len(result)
    cols: dict[str, Any] = {
        "case_id": pa.array([case.case_id] * n, pa.string()),
        "case_index": pa.array([case.index] * n, pa.int64()),
    }
    for path, value in case.params:
        cell = _param_cell(value)
        cols[path] = pa.array([cell] * n, _param_type(cell))
    cols["lander"] = pa.array(list(result.lander), pa.string())
    cols["lander_lat_deg"] = pa.array(result.lat_deg, pa.float64())
    cols["lander_lon_east_deg"] = pa.array(result.lon_east_deg, pa.float64())
    for name in sweep.figures:
        cols[name] = pa.array(result.figure(name), pa.float64())
    return pa.table(cols)


def _param_type(cell: Any) -> pa.DataType:
    if isinstance(cell, bool):
        return pa.bool_()
    if isinstance(cell, float):
        return pa.float64()
    return pa.string()


def _schema(sweep: Sweep) -> pa.Schema:
    """Schema of ``results.parquet`` (used when no case has finished)."""
    fields = [pa.field("case_id", pa.string()), pa.field("case_index", pa.int64())]
    first = sweep.cases[0].params if sweep.cases else ()
    for path, value in first:
        fields.append(pa.field(path, _param_type(_param_cell(value))))
    fields += [pa.field("lander", pa.string()), pa.field("lander_lat_deg", pa.float64()),
               pa.field("lander_lon_east_deg", pa.float64())]
    fields += [pa.field(f, pa.float64()) for f in sweep.figures]
    return pa.schema(fields)


def _write_parquet(path: Path, table: pa.Table) -> None:
    atomic_write_with(path, lambda tmp: pq.write_table(table, tmp))


def _part_path(out_dir: Path, case_id: str) -> Path:
    return out_dir / "results" / f"part-{case_id}.parquet"


def _error_path(out_dir: Path, case_id: str) -> Path:
    return out_dir / "errors" / f"{case_id}.json"


def _check_manifest(sweep: Sweep, out_dir: Path) -> None:
    """Write the manifest, or check an existing one describes this same sweep."""
    path = out_dir / MANIFEST_NAME
    fingerprint = sweep.fingerprint()
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            old_fp = old["fingerprint"]
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError("unreadable sweep manifest", file=str(path),
                             allowed="remove the folder or use another --out") from None
        if old_fp != fingerprint:
            raise InputError(
                f"{out_dir} holds results of a different sweep ({old.get('name')!r}, from "
                f"{old.get('source')}); its parameters, base scenario, figures or case "
                "function differ",
                file=str(path), field="fingerprint",
                allowed="the same sweep file to resume, or another --out folder")
        return
    if (out_dir / "results").exists():
        raise InputError(f"{out_dir} has results but no {MANIFEST_NAME}", file=str(out_dir),
                         allowed="an empty or new --out folder")
    doc = {
        "format": _MANIFEST_FORMAT,
        "fingerprint": fingerprint,
        "name": sweep.name,
        "source": str(sweep.source) if sweep.source else None,
        "base": sweep.base,
        "mode": sweep.mode,
        "samples": sweep.samples,
        "seed": sweep.seed,
        "figures": list(sweep.figures),
        "case_function": sweep.case_function,
        "params": list(sweep.param_paths),
        "n_cases": len(sweep.cases),
        "case_ids": [c.case_id for c in sweep.cases],
    }
    atomic_write_text(path, json.dumps(doc, indent=1) + "\n")


def _clean_temporaries(out_dir: Path) -> None:
    """Remove temporary files left by a killed writer (never complete partitions)."""
    for sub in ("results", "errors", "."):
        folder = out_dir / sub
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()


def _record_error(out_dir: Path, case: Case, exc: BaseException, tb: str) -> CaseError:
    err = CaseError(
        case_id=case.case_id,
        index=case.index,
        params_json=json.dumps({p: _param_cell(v) for p, v in case.params}),
        error_type=type(exc).__name__,
        message=" ".join(str(exc).split()) or type(exc).__name__,
        traceback=tb,
    )
    atomic_write_text(_error_path(out_dir, case.case_id), json.dumps(err.__dict__) + "\n")
    return err


def _finish_case(sweep: Sweep, out_dir: Path, case: Case, result: CaseResult) -> None:
    _write_parquet(_part_path(out_dir, case.case_id), case_table(sweep, case, result))
    with contextlib.suppress(FileNotFoundError):
        _error_path(out_dir, case.case_id).unlink()


def run_sweep(
    sweep: Sweep,
    out_dir: str | Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    case_function: CaseFunction | str | None = None,
    allow_code: bool = False,
    retries: int = 2,
    chunk_size: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> SweepOutcome:
    """Run the sweep's missing cases and write the results (see the module docstring).

    ``case_function`` overrides the sweep file's ``case`` (a callable must be importable by
    the workers, i.e. defined at module level); a name is resolved by
    :func:`resolve_case_function` (``allow_code`` lets it import any ``module:function``).
    ``workers=0`` runs serially in this process; ``scheduler`` connects to an existing Dask
    scheduler (``workers`` is then ignored).
    Raises :class:`InputError` for a folder holding another sweep or an unreachable scheduler;
    a case that raises is retried ``retries`` times on Dask (once in a serial run: case
    functions are deterministic), then recorded as a :class:`CaseError`.
    ``chunk_size`` cases go in one Dask task (default: :func:`auto_chunk_size`).
    ``KeyboardInterrupt`` leaves every finished partition in place.
    """
    t_start = time.perf_counter()
    out_dir = Path(out_dir)
    ref = case_function if case_function is not None else sweep.case_function
    # resolved in the client, before any work: a bad name fails at once with a clear message
    fn = resolve_case_function(ref, allow_code=allow_code) if isinstance(ref, str) else ref
    if scheduler is not None:
        check_scheduler(scheduler)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output folder {out_dir}: {err.strerror}",
                         field="--out", allowed="a folder you can write to") from None
    _check_manifest(sweep, out_dir)
    _clean_temporaries(out_dir)
    (out_dir / "results").mkdir(exist_ok=True)

    pending = [c for c in sweep.cases if not _part_path(out_dir, c.case_id).exists()]
    total = len(sweep.cases)
    n_skipped = total - len(pending)
    errors: list[CaseError] = []
    done = n_skipped

    def report(case_id: str | None) -> None:
        if on_progress is not None:
            on_progress(Progress(done=done, failed=len(errors), total=total, case_id=case_id))

    report(None)
    n_workers = 0
    if pending and (workers == 0 and scheduler is None):
        for case in pending:
            try:
                result = _call_case(fn, case)
            except Exception as exc:
                errors.append(_record_error(out_dir, case, exc, traceback.format_exc()))
            else:
                _finish_case(sweep, out_dir, case, result)
            done += 1
            report(case.case_id)
    elif pending:
        with _dask_client(scheduler, workers, len(pending)) as client:
            n_workers = len(client.nthreads())
            for case, result, exc, tb in _run_on_dask(client, fn, pending, retries,
                                                      chunk_size):
                if exc is None:
                    _finish_case(sweep, out_dir, case, result)
                else:
                    errors.append(_record_error(out_dir, case, exc, tb))
                done += 1
                report(case.case_id)

    from marsrelay.sweep.summary import write_outputs

    results_path, summary_path, errors_path = write_outputs(sweep, out_dir, _schema(sweep))
    all_errors = _read_errors(sweep, out_dir)
    return SweepOutcome(
        out_dir=out_dir, n_cases=total, n_skipped=n_skipped,
        n_computed=len(pending) - len(errors), n_failed=len(all_errors),
        errors=tuple(all_errors), results_path=results_path, summary_path=summary_path,
        errors_path=errors_path, elapsed_s=time.perf_counter() - t_start, workers=n_workers,
    )


def _read_errors(sweep: Sweep, out_dir: Path) -> list[CaseError]:
    out = []
    for case in sweep.cases:
        path = _error_path(out_dir, case.case_id)
        if path.exists() and not _part_path(out_dir, case.case_id).exists():
            out.append(CaseError(**json.loads(path.read_text(encoding="utf-8"))))
    return out


def local_cluster(n_workers: int, **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` for sweeps: ``n_workers`` processes of one thread each,
    no dashboard, quiet logs (``kwargs`` go to ``LocalCluster``).

    Dask sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its worker processes by default; any fixed
    value turns off glibc's dynamic mmap threshold, so every large numpy temporary is mapped
    and unmapped again, which made contact searches ~40% slower in a worker than in this
    process. The variable is left unset here (``None`` in ``pre-spawn-environ``).
    """
    import dask
    from distributed import LocalCluster

    options = {"threads_per_worker": 1, "processes": True, "dashboard_address": None,
               "silence_logs": logging.ERROR, **kwargs}
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        return LocalCluster(n_workers=n_workers, **options)


_SCHEDULER_ALLOWED = "an address like tcp://host:8786 of a running dask scheduler"


def check_scheduler(address: str, timeout_s: float = 5.0) -> str:
    """Check ``address`` (``tcp://host:port``) before any work: its form, then that something
    listens there (a TCP connection within ``timeout_s``). Raises InputError naming
    ``--scheduler``; returns the address."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if parts.scheme not in ("tcp", "tls") or not host or port is None or " " in address:
        raise InputError(f"{address!r} is not a scheduler address", field="--scheduler",
                         allowed=_SCHEDULER_ALLOWED)
    if parts.scheme == "tcp":
        try:
            socket.create_connection((host, port), timeout=timeout_s).close()
        except OSError as err:
            raise InputError(f"nothing answers at {address} ({err.strerror or err})",
                             field="--scheduler", allowed=_SCHEDULER_ALLOWED) from None
    return address


@contextlib.contextmanager
def _dask_client(scheduler: str | None, workers: int | None, n_tasks: int) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler`` or on a new process-based LocalCluster of
    ``workers`` (default: one per CPU) processes, no more than ``n_tasks``."""
    from distributed import Client

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise InputError(f"cannot reach the Dask scheduler: {err}", field="--scheduler",
                             allowed=_SCHEDULER_ALLOWED) from None
        try:
            yield client
        finally:
            client.close()
        return
    n = max(1, min(workers if workers else (os.cpu_count() or 1), n_tasks))
    cluster = local_cluster(n)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _call_cases(fn: CaseFunction, cases: list[Case]) -> list[CaseResult]:
    """Evaluate a chunk of cases (one Dask task); any case raising fails the whole task."""
    return [_call_case(fn, case) for case in cases]


def auto_chunk_size(n_cases: int, threads: int) -> int:
    """Cases per Dask task: at least 8 tasks per worker thread, at most :data:`MAX_CHUNK`
    cases per task (a task costs the client and scheduler a few ms; chunks amortise it)."""
    return max(1, min(MAX_CHUNK, n_cases // (8 * max(1, threads))))


def _run_on_dask(client: Any, fn: CaseFunction, cases: list[Case], retries: int,
                 chunk_size: int | None = None
                 ) -> Iterator[tuple[Case, Any, BaseException | None, str]]:
    """Submit cases in chunks (a bounded window in flight) and yield ``(case, result, exc,
    tb)`` per case as chunks finish; ``exc`` is set for a case that failed after its retries.

    A chunk that fails after its retries is split: each of its cases runs again alone (with
    its own retries), so only the failing cases are reported. A result that cannot be fetched
    (its worker died after finishing it, or the scheduler cancelled it) is submitted again, at
    most :data:`MAX_RESUBMITS` times.
    """
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    threads = sum(client.nthreads().values()) or 1
    size = chunk_size or auto_chunk_size(len(cases), threads)
    chunks = deque(cases[i:i + size] for i in range(0, len(cases), size))
    window = max(4 * threads, 8)
    in_flight: dict[str, tuple[list[Case], Any]] = {}
    resubmits: dict[tuple[str, int], int] = {}

    def submit(chunk: list[Case]) -> Any:
        ident = (chunk[0].case_id, len(chunk))
        n = resubmits.get(ident, 0)
        key = f"marsrelay-cases-{chunk[0].case_id}-{len(chunk)}-{token}" + (f"-{n}" if n else "")
        future = client.submit(_call_cases, fn, chunk, key=key, retries=retries, pure=False)
        in_flight[key] = (chunk, future)
        return future

    first = [submit(chunks.popleft()) for _ in range(min(window, len(chunks)))]
    ac = as_completed(first, loop=client.loop)
    try:
        for future in ac:
            chunk, _ = in_flight.pop(future.key)
            status = future.status
            results: Any = None
            if status == "error":
                exc = future.exception()
                tb = future.traceback()
                future.release()
                if len(chunk) > 1:  # find the failing case(s): run each case alone
                    for case in chunk:
                        ac.add(submit([case]))
                    continue
                text = "".join(traceback.format_exception(type(exc), exc, tb)) if tb else repr(exc)
                yield chunk[0], None, exc, text
            else:
                if status == "finished":
                    with contextlib.suppress(Exception):
                        results = future.result(timeout=_FETCH_TIMEOUT_S)
                future.release()
                ok = (isinstance(results, list) and len(results) == len(chunk)
                      and all(isinstance(r, CaseResult) for r in results))
                if not ok:
                    ident = (chunk[0].case_id, len(chunk))
                    n = resubmits[ident] = resubmits.get(ident, 0) + 1
                    if n <= MAX_RESUBMITS:
                        _log.warning("cases from %s: result lost (%s), submitting again",
                                     chunk[0].case_id, status)
                        ac.add(submit(chunk))
                        continue
                    exc = RuntimeError(f"the result of case {chunk[0].case_id} was lost {n} "
                                       f"times (last status {status!r})")
                    for case in chunk:
                        yield case, None, exc, repr(exc)
                else:
                    for case, result in zip(chunk, results, strict=True):
                        yield case, result, None, ""
            while chunks and len(in_flight) < window:
                ac.add(submit(chunks.popleft()))
    finally:
        if in_flight:
            with contextlib.suppress(Exception):
                client.cancel([f for _, f in in_flight.values()], force=True)
