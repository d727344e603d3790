"""A run folder written as a transaction: whole or not at all, never a mix of two runs.

``with RunFolderWriter(out_dir) as staging:`` takes a lock beside the folder (a second writer
gets :class:`~marsrelay.errors.RunFolderError` at once), makes a temporary sibling
``.<name>.tmp-*`` for the run to write into (``staging.path``), and when the block ends
without an exception writes ``run.json`` (status ``complete``, scenario hash, versions,
timings, the file list) and swaps the sibling in place of ``out_dir`` in one atomic exchange
(``renameat2(RENAME_EXCHANGE)``; two renames where the system lacks it). On any exception,
Ctrl-C or SIGTERM the sibling is removed and ``out_dir`` keeps the previous run. A sibling left
by a killed run (SIGKILL) is removed by the next writer, which holds the lock.

The lock is ``.<name>.lock`` beside the folder (an advisory ``flock``, released when the
process ends however it ends); the file itself stays, empty.

:func:`check_run_folder` is what readers (report, compare, CZML) call first: the folder must
hold a ``run.json`` with status ``complete`` and every file it lists.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from marsrelay.errors import RunFolderError
from marsrelay.io import atomic_write_text
from marsrelay.rundir import schema

__all__ = [
    "RunFolderWriter",
    "RunRecord",
    "check_run_folder",
    "read_run_record",
    "write_run_record",
]

RUN_FORMAT = 1


@dataclass(frozen=True)
class RunRecord:
    """What ``run.json`` says of a run: status, scenario name and hash (SHA-256 of its
    ``scenario.json``), the stages that ran, their wall times (s), versions and files."""

    status: str
    scenario: str
    scenario_sha256: str
    stages: tuple[str, ...]
    timings_s: dict[str, float]
    versions: dict[str, str]
    created_utc: str
    files: tuple[str, ...]
    format: int = RUN_FORMAT
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        """The record as indented JSON text."""
        return json.dumps({
            "format": self.format, "status": self.status, "scenario": self.scenario,
            "scenario_sha256": self.scenario_sha256, "stages": list(self.stages),
            "timings_s": self.timings_s, "versions": self.versions,
            "created_utc": self.created_utc, "files": list(self.files),
            "notes": list(self.notes),
        }, indent=2) + "\n"


def versions() -> dict[str, str]:
    """Versions of marsrelay, Python and the libraries whose numbers end up in a run."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("marsrelay", "numpy", "pyerfa", "jplephem", "ortools", "pyarrow"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Swap the paths ``a`` and ``b`` atomically (Linux renameat2 with RENAME_EXCHANGE);
    False where the system or file system does not offer it."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _looks_like_run(path: Path) -> bool:
    return (path / schema.RUN_JSON).is_file() or (path / schema.SCENARIO_JSON).is_file()


class RunFolderWriter:
    """Write a run into ``out_dir`` as one transaction (see the module docstring).

    ``stages`` and ``scenario_name`` go into ``run.json``; ``timings_s`` may be filled while
    the run goes on. Raises :class:`RunFolderError` when the folder is locked by another run,
    cannot be written, or exists and is not a marsrelay run folder (never replaced).
    """

    def __init__(self, out_dir: str | Path) -> None:
        text = str(out_dir)
        if not text.strip():
            raise RunFolderError("the output folder is an empty string", field="--out",
                                 allowed="a folder path such as out/run1")
        self.out_dir = Path(out_dir).expanduser().absolute()
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise RunFolderError("exists and is not a folder", file=text, field="--out",
                                 allowed="a new folder or a marsrelay run folder")
        if (self.out_dir.is_dir() and any(self.out_dir.iterdir())
                and not _looks_like_run(self.out_dir)):
            raise RunFolderError(
                "holds files that are not a marsrelay run; marsrelay replaces a run folder "
                "whole and will not replace this one", file=text, field="--out",
                allowed="a new or empty folder, or the folder of an earlier run")
        self.parent = self.out_dir.parent
        self.name = self.out_dir.name
        self.path: Path = self.out_dir  # the staging folder once entered
        self.timings_s: dict[str, float] = {}
        self.stages: tuple[str, ...] = ()
        self.scenario_name = ""
        self.notes: list[str] = []
        self._lock_fd: int | None = None

    # -- lock and staging ------------------------------------------------------------------
    def _lock(self) -> None:
        try:
            self.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.parent / f".{self.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise RunFolderError(f"cannot write into {self.parent}: {exc.strerror}",
                                 file=str(self.out_dir), field="--out",
                                 allowed="a folder you can write to") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise RunFolderError(
                "another marsrelay run is writing into this folder", file=str(self.out_dir),
                field="--out", allowed="wait for it to finish, or choose another folder",
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _remove_stale(self) -> None:
        """Siblings left by killed runs (we hold the lock: nobody else is writing them)."""
        for stale in self.parent.glob(f".{self.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        for stale in self.parent.glob(f".{self.name}.old-*"):
            previous = stale / "run"
            if not self.out_dir.exists() and previous.is_dir():
                os.replace(previous, self.out_dir)  # a swap was cut between its two renames
            shutil.rmtree(stale, ignore_errors=True)

    def __enter__(self) -> RunFolderWriter:
        self._lock()
        try:
            self._remove_stale()
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.name}.tmp-", dir=self.parent))
        except OSError as exc:
            self._unlock()
            raise RunFolderError(f"cannot write into {self.parent}: {exc.strerror}",
                                 file=str(self.out_dir), field="--out",
                                 allowed="a folder you can write to") from None
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if exc_type is None:
                self._commit()
        finally:
            if self.path != self.out_dir and self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
            self._unlock()

    # -- commit ------------------------------------------------------------------------------
    def _commit(self) -> None:
        write_run_record(self.path, self.scenario_name, self.stages, self.timings_s,
                         self.notes)
        os.chmod(self.path, 0o777 & ~_umask())
        _fsync_dir(self.path)
        if self.out_dir.exists():
            if not _renameat2_exchange(self.path, self.out_dir):
                old = Path(tempfile.mkdtemp(prefix=f".{self.name}.old-", dir=self.parent))
                os.replace(self.out_dir, old / "run")
                os.replace(self.path, self.out_dir)
                shutil.rmtree(old, ignore_errors=True)
                self.path = self.out_dir
        else:
            os.replace(self.path, self.out_dir)
            self.path = self.out_dir
        _fsync_dir(self.parent)
        # after an exchange self.path holds the previous run: __exit__ removes it


def write_run_record(folder: Path, scenario_name: str, stages: Sequence[str],
                     timings_s: dict[str, float], notes: Sequence[str] = ()) -> RunRecord:
    """Write ``folder/run.json`` (status complete) listing every file now in ``folder`` (and
    its subfolders); returns the record."""
    scenario_json = folder / schema.SCENARIO_JSON
    digest = (hashlib.sha256(scenario_json.read_bytes()).hexdigest()
              if scenario_json.is_file() else "")
    files = tuple(sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                         if p.is_file() and p.name != schema.RUN_JSON))
    record = RunRecord(
        status="complete", scenario=scenario_name, scenario_sha256=digest, stages=tuple(stages),
        timings_s={k: round(v, 4) for k, v in timings_s.items()}, versions=versions(),
        created_utc=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        files=files, notes=tuple(notes))
    atomic_write_text(folder / schema.RUN_JSON, record.to_json())
    return record


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_run_record(run_dir: str | Path) -> dict[str, Any] | None:
    """``run.json`` of ``run_dir`` as a dict, or None when the folder has none."""
    path = Path(run_dir) / schema.RUN_JSON
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{schema.RUN_JSON} is not readable JSON ({exc})",
                             file=str(run_dir)) from None
    return data if isinstance(data, dict) else None


def check_run_folder(run_dir: str | Path, need: Sequence[str] = ()) -> dict[str, Any]:
    """The run record of a complete run folder; :class:`RunFolderError` naming what is missing
    otherwise (no folder, no ``run.json``, a status other than complete, a listed file gone,
    or one of the stages in ``need`` not run)."""
    path = Path(run_dir)
    where = str(run_dir)
    if not path.is_dir():
        raise RunFolderError("no such run folder", file=where,
                             allowed="a folder written by 'marsrelay run'")
    record = read_run_record(path)
    if record is None:
        raise RunFolderError(f"not a complete marsrelay run: no {schema.RUN_JSON}", file=where,
                             allowed="a folder written by 'marsrelay run' (re-run it)")
    if record.get("status") != "complete":
        raise RunFolderError(f"run status is {record.get('status')!r}, not complete",
                             file=where, allowed="a complete run (re-run it)")
    missing = [f for f in record.get("files", []) if not (path / f).is_file()]
    if missing:
        raise RunFolderError(f"files of the run are missing: {', '.join(missing[:5])}",
                             file=where, allowed="a complete run folder (re-run it)")
    stages = record.get("stages", [])
    lacking = [s for s in need if s not in stages]
    if lacking:
        raise RunFolderError(f"the run has no {', '.join(lacking)} stage", file=where,
                             allowed="a run of 'marsrelay run' (all stages)")
    return record
