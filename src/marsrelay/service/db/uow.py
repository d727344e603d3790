"""The unit of work: one session, one transaction, committed as a whole or not at all.

``with UnitOfWork(db, write=True) as uow:`` opens a write transaction (serialised with every
other writer, see :mod:`marsrelay.service.db.engine`), commits when the block ends normally and
rolls back on any exception. Read units of work see one consistent snapshot. Database failures
that are not the caller's fault (locked past the busy timeout, disk full, read-only file,
connection lost) become :class:`~marsrelay.service.domain.UnavailableError`.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from marsrelay.service.db.engine import Database
from marsrelay.service.db.failures import database_unavailable
from marsrelay.service.db.repository import Repository
from marsrelay.service.domain.errors import ConflictError

__all__ = ["UnitOfWork", "database_unavailable"]


class UnitOfWork:
    """A transaction around :class:`Repository` (``uow.repo``) on ``db``."""

    def __init__(self, db: Database, *, write: bool = False) -> None:
        self.db = db
        self.write = write
        self.session: Session
        self.repo: Repository

    @classmethod
    def within(cls, outer: UnitOfWork) -> UnitOfWork:
        """A view of ``outer``'s open transaction with a fresh repository (for one operation
        of a group commit, :mod:`marsrelay.service.db.group_commit`); not a context manager."""
        step = cls.__new__(cls)
        step.db, step.write, step.session = outer.db, outer.write, outer.session
        step.repo = Repository(outer.session, outer.db.catalog_cache)
        return step

    def __enter__(self) -> UnitOfWork:
        bind = self.db.write_engine if self.write else self.db.engine
        self._lock = self.db.write_lock() if self.write else contextlib.nullcontext()
        self._lock.__enter__()
        self.session = Session(bind=bind, expire_on_commit=False, autoflush=True)
        try:
            self.session.begin()
            self.session.connection()  # BEGIN (IMMEDIATE) / the advisory lock, now
        except (OperationalError, DBAPIError) as exc:
            self.session.close()
            self._lock.__exit__(None, None, None)
            raise database_unavailable(exc) from None
        except BaseException:
            self.session.close()
            self._lock.__exit__(None, None, None)
            raise
        self.repo = Repository(self.session, self.db.catalog_cache, read_only=not self.write)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                try:
                    self.session.commit()
                except IntegrityError as err:
                    self.session.rollback()
                    raise ConflictError(
                        "the change clashes with a record written at the same time; "
                        f"try again ({' '.join(str(err.orig).split())[:120]})"
                    ) from None
                except (OperationalError, DBAPIError) as err:
                    self._rollback_quietly()
                    raise database_unavailable(err) from None
            else:
                self._rollback_quietly()
                if isinstance(exc, IntegrityError):
                    raise ConflictError(
                        "the change clashes with a record written at the same time; try again"
                    ) from None
                if isinstance(exc, (OperationalError, DBAPIError)):
                    raise database_unavailable(exc) from None
        finally:
            self.session.close()
            self._lock.__exit__(None, None, None)

    def _rollback_quietly(self) -> None:
        with contextlib.suppress(OperationalError, DBAPIError):
            self.session.rollback()
