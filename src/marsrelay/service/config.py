"""Service settings: one frozen object, read from the environment once (``MARSRELAY_*``).

| variable | default | meaning |
|---|---|---|
| ``MARSRELAY_DB`` | ``sqlite:///marsrelay.db`` | database URL (``--db`` wins) |
| ``MARSRELAY_MAX_BODY_BYTES`` | 1 MiB | largest JSON body / trajectory upload (413 above) |
| ``MARSRELAY_MAX_FILE_BYTES`` | 16 MiB | largest forward file (413 above) |
| ``MARSRELAY_PLAN_TIME_LIMIT_S`` | 10 | CP-SAT time limit of ``/plan`` |
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


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    max_body_bytes: int = MAX_BODY_BYTES
    max_file_bytes: int = MAX_FILE_BYTES
    plan_time_limit_s: float = 10.0

    @classmethod
    def from_env(cls, db_url: str | None = None) -> Settings:
        """Settings from ``MARSRELAY_*`` variables; ``db_url`` (``--db``) wins over the env."""
        return cls(
            db_url=db_url or os.environ.get("MARSRELAY_DB") or DEFAULT_DB_URL,
            max_body_bytes=_int_env("MARSRELAY_MAX_BODY_BYTES", MAX_BODY_BYTES),
            max_file_bytes=_int_env("MARSRELAY_MAX_FILE_BYTES", MAX_FILE_BYTES),
            plan_time_limit_s=float(_int_env("MARSRELAY_PLAN_TIME_LIMIT_S", 10)),
        )
