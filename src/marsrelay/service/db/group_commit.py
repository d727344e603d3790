"""Group commit: many small write operations, one transaction and one disk flush.

A committed write is durable only once the database has flushed it to disk (SQLite WAL with
``synchronous=FULL`` fsyncs the WAL at every commit; PostgreSQL flushes its WAL). Writes are
applied one at a time (see :mod:`marsrelay.service.db.engine`), so with one transaction per
write the service could never write faster than one flush per write (about 4-6 ms on the
benchmark machine's disk: under 250 writes/s, whatever the CPU).

:class:`GroupCommitter` keeps the one-at-a-time order and amortises the flush: callers hand it
a function ``work(uow) -> result``; one writer thread per process takes every operation that
is waiting (up to ``max_batch``), runs them one after another in ONE write transaction, each
inside its own SAVEPOINT, then commits once. Each operation still sees the ones before it and
is atomic on its own: one that raises (a 404, 409, 422...) is rolled back to its savepoint and
its caller gets the exception, the others go on. Nobody gets an answer before the COMMIT has
returned, so a 2xx still means "on disk"; if the COMMIT (or the database) fails, every
operation of the batch gets the failure (503) and none of them happened.

Batches form by themselves: while one batch commits, the next operations queue. A lone write
is committed at once (no waiting for company).
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from marsrelay.service.db.engine import Database
from marsrelay.service.db.uow import UnitOfWork, database_unavailable
from marsrelay.service.domain.errors import ConflictError

__all__ = ["GroupCommitter"]

T = TypeVar("T")


@dataclass
class _Op:
    work: Callable[[UnitOfWork], Any]
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class GroupCommitter:
    """One writer thread for ``db`` (started on first use; stopped by :meth:`close`)."""

    def __init__(self, db: Database, max_batch: int = 64) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: deque[_Op] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(self, work: Callable[[UnitOfWork], T]) -> T:
        """Run ``work`` in a write transaction; return its result once it is committed."""
        op = _Op(work)
        with self._wake:
            if self._closed:
                raise RuntimeError("the database writer is closed")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._loop, name="marsrelay-writer", daemon=True
                )
                self._thread.start()
            self._queue.append(op)
            self._wake.notify()
        op.done.wait()
        if op.error is not None:
            raise op.error
        return op.result

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=30)

    # -- the writer thread -----------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closed:
                    self._wake.wait()
                if not self._queue:  # closed and drained
                    return
                batch = [self._queue.popleft()
                         for _ in range(min(self.max_batch, len(self._queue)))]
            self._run_batch(batch)

    def _run_batch(self, batch: list[_Op]) -> None:
        pending = list(batch)
        try:
            with UnitOfWork(self.db, write=True) as uow:
                for op in batch:
                    self._run_one(uow, op)
        except BaseException as exc:  # the transaction failed as a whole: nothing happened
            failure = _as_service_error(exc)
            for op in pending:
                if op.error is None:
                    op.result, op.error = None, failure
        finally:
            for op in pending:
                op.done.set()

    @staticmethod
    def _run_one(uow: UnitOfWork, op: _Op) -> None:
        step = UnitOfWork.within(uow)
        savepoint = uow.session.begin_nested()
        try:
            op.result = op.work(step)
            uow.session.flush()
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc, IntegrityError):
                with contextlib.suppress(OperationalError, DBAPIError):
                    savepoint.rollback()
                op.error = ConflictError(
                    "the change clashes with a record written at the same time; try again"
                )
                return
            raise  # the database itself failed: abort the batch
        except BaseException as exc:  # the operation's own refusal (or a bug): only this op
            savepoint.rollback()
            op.error = exc
            return
        savepoint.commit()


def _as_service_error(exc: BaseException) -> BaseException:
    if isinstance(exc, (OperationalError, DBAPIError)):
        return database_unavailable(exc)
    return exc
