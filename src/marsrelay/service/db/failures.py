"""Database failures that are not the caller's fault, as the service reports them.

:func:`database_unavailable` turns a driver error into a 503 with a one-line message naming
the kind of fault (disk full, read-only, busy, unreachable), from SQLite's result name or
PostgreSQL's SQLSTATE; the driver's own text (which can name hosts, users and files) is kept
for the server's log only. :func:`is_discard_error` says which errors leave a connection that
must not be reused (the engine then opens fresh ones, so the service recovers by itself).
"""

from __future__ import annotations

from marsrelay.service.domain.errors import UnavailableError

__all__ = ["database_unavailable", "is_discard_error"]

#: SQLite result names -> what the service tells its clients (``sqlite3.Error.sqlite_errorname``).
_SQLITE: tuple[tuple[str, str], ...] = (
    ("SQLITE_FULL", "the database's disk is full: writes are refused until space is freed"),
    ("SQLITE_IOERR", "the database file cannot be written (disk full, file size limit or I/O "
                     "error): writes are refused until it is fixed"),
    ("SQLITE_READONLY", "the database is read-only: writes are refused until it is writable"),
    ("SQLITE_BUSY", "the database is busy; try again"),
    ("SQLITE_LOCKED", "the database is busy; try again"),
    ("SQLITE_CANTOPEN", "the database file cannot be opened"),
)
#: PostgreSQL SQLSTATE classes/codes -> the same kind of message.
_POSTGRES: tuple[tuple[str, str], ...] = (
    ("53100", "the database's disk is full: writes are refused until space is freed"),
    ("25006", "the database is read-only (a standby?): writes are refused until it is writable"),
    ("53300", "the database has too many connections; try again"),
    ("57014", "the database did not answer in time; try again"),
    ("40", "the database is busy; try again"),
    ("08", "the database is not reachable; try again"),
    ("57P", "the database is restarting or shutting down; try again"),
)


def _classify(orig: BaseException) -> str:
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        for prefix, hint in _SQLITE:
            if name.startswith(prefix):
                return hint
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        for prefix, hint in _POSTGRES:
            if state.startswith(prefix):
                return hint
    lowered = str(orig).lower()
    if "locked" in lowered or "busy" in lowered:
        return "the database is busy; try again"
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return "the database is read-only: writes are refused until it is writable"
    if "full" in lowered or "no space" in lowered:
        return "the database's disk is full: writes are refused until space is freed"
    return "the database is not reachable; try again"


def database_unavailable(exc: BaseException) -> UnavailableError:
    """The client's one-line message for a database failure (503). The driver's own text,
    which may name hosts, users or files, goes to the server's log only (``log_detail``)."""
    orig = getattr(exc, "orig", None) or exc
    err = UnavailableError(f"service unavailable: {_classify(orig)}")
    err.log_detail = " ".join(str(orig).split())[:300]  # type: ignore[attr-defined]
    return err


#: Errors after which a pooled connection is not reused. SQLite: a connection opened while the
#: file was read-only stays read-only (a failed write to a full disk leaves the connection
#: usable, and opening new ones could fail as well). PostgreSQL: lost connections, and
#: sessions opened read-only (a standby). The pool opens fresh ones, so the service recovers
#: by itself once the fault is gone.
_DISCARD_SQLITE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_NOTADB")
_DISCARD_POSTGRES = ("25006", "08", "57P")


def is_discard_error(orig: BaseException | None) -> bool:
    """Whether a driver error means the connection should be thrown away."""
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        return name.startswith(_DISCARD_SQLITE)
    state = getattr(orig, "sqlstate", None)
    return isinstance(state, str) and state.startswith(_DISCARD_POSTGRES)
