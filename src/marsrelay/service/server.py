"""``marsrelay serve``: uvicorn around the app, stopping cleanly on SIGINT and SIGTERM.

Both signals make uvicorn finish the requests in flight and close the database; the process
then exits 0 after SIGINT and 143 (128 + 15, the shell's convention) after SIGTERM. uvicorn's
own habit of re-raising the signal after shutdown is replaced, so the status is an exit code
and not a death by signal.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import uvicorn

from marsrelay.errors import InputError
from marsrelay.service.api import create_app
from marsrelay.service.config import Settings
from marsrelay.service.db.engine import Database
from marsrelay.service.db.migrate import current_revision, head_revision
from marsrelay.service.ops import RelayService

__all__ = ["serve"]


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
            f"{db.url} holds no marsrelay service database",
            field="--db",
            allowed="a database made by `marsrelay service init SCENARIO --db URL`",
        )
    if revision != head_revision():
        raise InputError(
            f"the database's schema is revision {revision}, this marsrelay needs {head_revision()}",
            field="--db",
            allowed="run `marsrelay service init SCENARIO --db URL` to migrate it",
        )


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 8000, access_log: bool = False
) -> int:
    """Serve until SIGINT (returns 0) or SIGTERM (returns 143)."""
    db = Database.open(settings.db_url)
    try:
        check_ready(db)
    except Exception:
        db.dispose()
        raise
    app = create_app(settings, RelayService(db, settings))
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=access_log,
        log_level="info",
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    server.run()
    return 143 if server.stopped_by == signal.SIGTERM else 0
