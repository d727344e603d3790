"""Service settings: one frozen object, read from the environment once (``MARSRELAY_*``).

| variable | default | meaning |
|---|---|---|
| ``MARSRELAY_DB`` | ``sqlite:///marsrelay.db`` | database URL (``--db`` wins) |
| ``MARSRELAY_MAX_BODY_BYTES`` | 1 MiB | largest JSON body / trajectory upload (413 above) |
| ``MARSRELAY_MAX_FILE_BYTES`` | 16 MiB | largest forward file (413 above) |
| ``MARSRELAY_PLAN_TIME_LIMIT_S`` | 10 | CP-SAT time limit of ``/plan`` |
| ``MARSRELAY_WRITE_RATE`` | 100 | writes per second per API token, sustained (0: no limit) |
| ``MARSRELAY_WRITE_BURST`` | 1000 | writes per API token in a burst (429 beyond, ``Retry-After``) |
| ``MARSRELAY_LOGIN_RATE`` | 0.5 | log-in attempts per second per user name, sustained (pages) |
| ``MARSRELAY_LOGIN_BURST`` | 30 | log-in attempts per user name in a burst |
| ``MARSRELAY_CLIENT_TIMEOUT_S`` | 15 | deadline of request headers and of each body read (408) |
| ``MARSRELAY_BODY_TIMEOUT_S`` | 120 | a whole request body must arrive within this (408) |
| ``MARSRELAY_THREADS`` | 16 | threads per server process for database work |
| ``MARSRELAY_RATE_STORE`` | (none) | rate-limit file shared by ``serve --workers N`` (set by it) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from marsrelay.service.db.engine import DEFAULT_DB_URL

__all__ = ["MAX_BODY_BYTES", "MAX_FILE_BYTES", "Settings"]

#: Default limits (bytes).
MAX_BODY_BYTES = 1 << 20
MAX_FILE_BYTES = 16 << 20


def _int_env(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else default


def _float_env(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, "").strip())
    except ValueError:
        return default
    return value if value >= 0 and value == value and value != float("inf") else default


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    max_body_bytes: int = MAX_BODY_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    plan_time_limit_s: float = 10.0
    write_rate_per_s: float = 100.0
    write_burst: int = 1000
    login_rate_per_s: float = 0.5
    login_burst: int = 30
    client_timeout_s: float = 15.0
    body_timeout_s: float = 120.0
    threads: int = 16
    rate_store: str | None = None

    @classmethod
    def from_env(cls, db_url: str | None = None) -> Settings:
        """Settings from ``MARSRELAY_*`` variables; ``db_url`` (``--db``) wins over the env."""
        return cls(
            db_url=db_url or os.environ.get("MARSRELAY_DB") or DEFAULT_DB_URL,
            max_body_bytes=_int_env("MARSRELAY_MAX_BODY_BYTES", MAX_BODY_BYTES),
            max_file_bytes=_int_env("MARSRELAY_MAX_FILE_BYTES", MAX_FILE_BYTES),
            plan_time_limit_s=float(_int_env("MARSRELAY_PLAN_TIME_LIMIT_S", 10)),
            write_rate_per_s=_float_env("MARSRELAY_WRITE_RATE", 100.0),
            write_burst=_int_env("MARSRELAY_WRITE_BURST", 1000),
            login_rate_per_s=_float_env("MARSRELAY_LOGIN_RATE", 0.5),
            login_burst=_int_env("MARSRELAY_LOGIN_BURST", 30),
            client_timeout_s=_float_env("MARSRELAY_CLIENT_TIMEOUT_S", 15.0) or 15.0,
            body_timeout_s=_float_env("MARSRELAY_BODY_TIMEOUT_S", 120.0) or 120.0,
            threads=_int_env("MARSRELAY_THREADS", 16),
            rate_store=os.environ.get("MARSRELAY_RATE_STORE") or None,
        )
