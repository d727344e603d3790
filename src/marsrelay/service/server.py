"""``marsrelay serve``: uvicorn around the app, stopping cleanly on SIGINT and SIGTERM.

Both signals make uvicorn finish the requests in flight and close the database; the process
then exits 0 after SIGINT and 143 (128 + 15, the shell's convention) after SIGTERM. uvicorn's
own habit of re-raising the signal after shutdown is replaced, so the status is an exit code
and not a death by signal.

``workers > 1`` runs that many server processes on one listening socket (uvicorn's
supervisor; each worker builds the app with :func:`worker_app` from the environment): Python
runs one thread at a time per process, so one process uses one core. Every guarantee holds
across processes: writes are serialised by the database (SQLite: ``flock`` + ``BEGIN
IMMEDIATE``; PostgreSQL: an advisory lock), the rate limits share one store, and a token
revoked elsewhere stops working in every worker within ``TOKEN_CACHE_S``. The HTTP protocol
is :class:`marsrelay.service.http_protocol.GuardedHttpProtocol` (a deadline for headers).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.supervisors.multiprocess import Multiprocess

from marsrelay.errors import InputError
from marsrelay.service.api import create_app
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.db.migrate import current_revision, head_revision
from marsrelay.service.ops import RelayService

__all__ = ["serve", "worker_app"]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_by: int | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopped_by = sig
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def check_ready(db: Database) -> None:
    """InputError unless the database was initialised with this version's schema."""
    if db.is_sqlite:
        path = db.engine.url.database or ""
        if not Path(path).is_file():
            raise InputError(f"no database file {path}", field="--db",
                             allowed="a database made by `marsrelay service init SCENARIO "
                                     "--db URL`")
    revision = current_revision(db)
    if revision is None:
        raise InputError(
            f"{db.display_url} holds no marsrelay service database",
            field="--db",
            allowed="a database made by `marsrelay service init SCENARIO --db URL`",
        )
    if revision != head_revision():
        raise InputError(
            f"the database's schema is revision {revision}, this marsrelay needs {head_revision()}",
            field="--db",
            allowed="run `marsrelay service init SCENARIO --db URL` to migrate it",
        )


def _settle_heap() -> None:
    """Move everything built at start-up (the imported libraries, the app) out of the
    garbage collector's sight, and collect the young generation less often. The service
    benchmark's profile showed the cyclic collector re-scanning that start-up heap again and
    again; this cut the CPU time of a typical read by about a third."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


class _Supervisor(Multiprocess):
    """uvicorn's worker supervisor, remembering which signal stopped it."""

    stopped_by: int | None = None

    def handle_int(self) -> None:
        self.stopped_by = signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = signal.SIGTERM
        super().handle_term()


def worker_app() -> FastAPI:
    """The app of one worker process (``serve --workers N``): settings from the environment,
    which :func:`serve` has set for its workers."""
    app = create_app(Settings.from_env())
    _settle_heap()
    return app


def _config(app: FastAPI | str, settings: Settings, host: str, port: int, access_log: bool,
            workers: int) -> uvicorn.Config:
    config = uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_level="info",
        lifespan="on",
        server_header=False,
        http="marsrelay.service.http_protocol:GuardedHttpProtocol",
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        limit_concurrency=2048,
        backlog=2048,
    )
    config.marsrelay_header_timeout_s = settings.client_timeout_s  # type: ignore[attr-defined]
    return config


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = False,
    workers: int = 1,
) -> int:
    """Serve until SIGINT (returns 0) or SIGTERM (returns 143)."""
    db = Database.open(settings.db_url)
    try:
        check_ready(db)
    except Exception:
        db.dispose()
        raise
    if workers <= 1:
        app = create_app(settings, RelayService(db, settings))
        _settle_heap()
        server = _Server(_config(app, settings, host, port, access_log, 1))
        server.run()
        return 143 if server.stopped_by == signal.SIGTERM else 0
    db.dispose()
    with tempfile.TemporaryDirectory(prefix="marsrelay-serve-") as private:
        os.environ["MARSRELAY_DB"] = settings.db_url
        os.environ["MARSRELAY_RATE_STORE"] = str(Path(private) / "rate-limits.db")
        config = _config("marsrelay.service.server:worker_app", settings, host, port,
                         access_log, workers)
        supervisor = _Supervisor(config, sockets=[config.bind_socket()])
        supervisor.run()
    return 143 if supervisor.stopped_by == signal.SIGTERM else 0
