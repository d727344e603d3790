"""Database URLs, engines and transactions.

- SQLite (the embedded default): WAL journal, ``synchronous=FULL`` (a committed write survives
  a crash or power cut), a 30 s busy timeout, foreign keys on. Write transactions start with
  ``BEGIN IMMEDIATE``: writers queue for the one write lock at the start instead of failing
  when a read snapshot cannot be upgraded.
- PostgreSQL through psycopg 3 (``postgresql+psycopg://``; ``postgresql://`` is read as that):
  write transactions take one transaction-scoped advisory lock first, so writes are applied in
  one order on both backends (event ids then become visible in increasing order, which polling
  clients rely on) and the conflict checks of acknowledge need no row locks.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from marsrelay.errors import InputError

__all__ = ["DEFAULT_DB_URL", "WRITE_LOCK_KEY", "Database", "normalize_url"]

#: The default of ``--db`` (and ``MARSRELAY_DB``): a SQLite file in the current folder.
DEFAULT_DB_URL = "sqlite:///marsrelay.db"

#: The PostgreSQL advisory lock that write transactions take (any fixed 64-bit number).
WRITE_LOCK_KEY = 0x6D617273  # "mars"

#: SQLite busy timeout, s: how long a writer waits for the write lock.
SQLITE_BUSY_TIMEOUT_S = 30.0


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

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @property
    def write_engine(self) -> Engine:
        """The engine whose transactions are write transactions (see the module docstring)."""
        return self.engine.execution_options(marsrelay_write=True)

    def dispose(self) -> None:
        self.engine.dispose()

    @classmethod
    def open(cls, url: str, *, pool_size: int = 16) -> Database:
        """An engine for ``url`` (see :func:`normalize_url`); nothing is connected yet."""
        url = normalize_url(url)
        if url.startswith("sqlite"):
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=60,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            )
            _sqlite_events(engine)
        else:
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_timeout=60,
                pool_pre_ping=True,
            )
            _postgres_events(engine)
        return cls(url, engine)


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
