"""Database URLs, engines and transactions.

- SQLite (the embedded default): WAL journal, ``synchronous=FULL`` (a committed write survives
  a crash or power cut), a 30 s busy timeout, foreign keys on. Write transactions start with
  ``BEGIN IMMEDIATE``: writers queue for the one write lock at the start instead of failing
  when a read snapshot cannot be upgraded. Before that they queue in :meth:`Database.write_lock`
  (a thread lock, then ``flock`` on ``FILE.lock`` beside the database, shared by every
  process): SQLite's own busy handler polls with sleeps of up to 100 ms, which under many
  writers made the slowest write wait seconds; a blocked ``flock`` wakes when it is released.
- PostgreSQL through psycopg 3 (``postgresql+psycopg://``; ``postgresql://`` is read as that):
  write transactions take one transaction-scoped advisory lock first, so writes are applied in
  one order on both backends (event ids then become visible in increasing order, which polling
  clients rely on) and the conflict checks of acknowledge need no row locks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marsrelay.errors import InputError
from marsrelay.service.db.failures import is_discard_error

__all__ = ["DEFAULT_DB_URL", "WRITE_LOCK_KEY", "Database", "normalize_url"]

#: The default of ``--db`` (and ``MARSRELAY_DB``): a SQLite file in the current folder.
DEFAULT_DB_URL = "sqlite:///marsrelay.db"

#: The PostgreSQL advisory lock that write transactions take (any fixed 64-bit number).
WRITE_LOCK_KEY = 0x6D617273  # "mars"

#: SQLite busy timeout, s: how long a writer waits for the write lock.
SQLITE_BUSY_TIMEOUT_S = 30.0

#: PostgreSQL connect timeout, s: a server that does not answer fails the request (503)
#: instead of holding it.
PG_CONNECT_TIMEOUT_S = 5


def normalize_url(url: str) -> str:
    """Check a database URL and pick the driver: ``sqlite:///FILE`` or
    ``postgresql+psycopg://...`` (``postgresql://``/``postgres://`` are read as psycopg 3).
    Raises :class:`InputError` naming ``--db`` for anything else."""
    text_url = (url or "").strip()
    for prefix in ("postgres://", "postgresql://"):
        if text_url.startswith(prefix):
            text_url = "postgresql+psycopg://" + text_url[len(prefix) :]
    allowed = "sqlite:///FILE or postgresql+psycopg://USER@HOST:PORT/DB"
    try:
        parsed = make_url(text_url)
    except ArgumentError:
        raise InputError(f"{url!r} is not a database URL", field="--db", allowed=allowed) from None
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise InputError(
            f"unsupported database {parsed.drivername!r}", field="--db", allowed=allowed
        )
    if parsed.drivername.startswith("sqlite") and not parsed.database:
        raise InputError(
            "an in-memory SQLite database would vanish with the process",
            field="--db",
            allowed=allowed,
        )
    return text_url


@dataclass
class Database:
    """One database: its engine, and whether it is SQLite or PostgreSQL."""

    url: str
    engine: Engine
    _thread_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _lock_fd: int | None = field(default=None, repr=False)
    #: A per-process cache of the catalogue (see ``Repository.catalog``).
    catalog_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    #: Called by :meth:`dispose` first (e.g. to stop a writer thread).
    on_dispose: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def display_url(self) -> str:
        """The URL without its password (for messages and logs)."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextlib.contextmanager
    def write_lock(self) -> Iterator[None]:
        """SQLite: hold the service's write lock (see the module docstring); PostgreSQL: no-op
        (its advisory lock waits without polling)."""
        if not self.is_sqlite:
            yield
            return
        with self._thread_lock:
            fd = self._lock_file()
            if fd is None:  # no lock file (read-only folder): BEGIN IMMEDIATE alone
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _lock_file(self) -> int | None:
        if self._lock_fd is None:
            path = f"{self.engine.url.database}.lock"
            with contextlib.suppress(OSError):
                self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._lock_fd

    @property
    def write_engine(self) -> Engine:
        """The engine whose transactions are write transactions (see the module docstring)."""
        return self.engine.execution_options(marsrelay_write=True)

    def dispose(self) -> None:
        for callback in self.on_dispose:
            callback()
        self.on_dispose.clear()
        self.engine.dispose()
        if self._lock_fd is not None:
            with self._thread_lock:
                os.close(self._lock_fd)
                self._lock_fd = None

    @classmethod
    def open(cls, url: str, *, pool_size: int = 24) -> Database:
        """An engine for ``url`` (see :func:`normalize_url`); nothing is connected yet.

        ``pool_size`` should cover the threads that query at once (the server's thread pool
        plus its writer thread): connections beyond it are opened and closed per use."""
        url = normalize_url(url)
        if url.startswith("sqlite"):
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=8,
                pool_timeout=30,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            )
            _sqlite_events(engine)
        else:
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=8,
                pool_timeout=30,
                pool_pre_ping=True,
                connect_args={"connect_timeout": PG_CONNECT_TIMEOUT_S},
            )
            _postgres_events(engine)
        _discard_broken_connections(engine)
        return cls(url, engine)


def _discard_broken_connections(engine: Engine) -> None:
    """Read-only, disk-full, I/O and connection errors count as a lost connection: SQLAlchemy
    then drops that connection (and the pool's older ones) and opens fresh ones."""
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        if is_discard_error(context.original_exception):
            context.is_disconnect = True
            # SQLite: only this connection (the others may be fine, and reads go on);
            # PostgreSQL: a restart or a fail-over concerns every connection.
            context.invalidate_pool_on_disconnect = not sqlite


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get("marsrelay_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _postgres_events(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("marsrelay_write", False):
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
