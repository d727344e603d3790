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
from marsrelay.service.db.repository import Repository
from marsrelay.service.domain.errors import ConflictError, UnavailableError

__all__ = ["UnitOfWork", "database_unavailable"]


def database_unavailable(exc: Exception) -> UnavailableError:
    """A one-line, token-free description of a database failure."""
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())[:200]
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        hint = "the database is busy; try again"
    elif "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        hint = "the database is read-only"
    elif "full" in lowered or "no space" in lowered:
        hint = "the database's disk is full"
    else:
        hint = "the database is not reachable"
    return UnavailableError(f"{hint} ({text})")


class UnitOfWork:
    """A transaction around :class:`Repository` (``uow.repo``) on ``db``."""

    def __init__(self, db: Database, *, write: bool = False) -> None:
        self.db = db
        self.write = write
        self.session: Session
        self.repo: Repository

    def __enter__(self) -> UnitOfWork:
        bind = self.db.write_engine if self.write else self.db.engine
        self.session = Session(bind=bind, expire_on_commit=False, autoflush=True)
        try:
            self.session.begin()
            self.session.connection()  # BEGIN (IMMEDIATE) / the advisory lock, now
        except (OperationalError, DBAPIError) as exc:
            self.session.close()
            raise database_unavailable(exc) from None
        self.repo = Repository(self.session)
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

    def _rollback_quietly(self) -> None:
        with contextlib.suppress(OperationalError, DBAPIError):
            self.session.rollback()
