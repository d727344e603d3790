"""Schema migrations (Alembic, run programmatically from the installed package).

``migrate(db)`` brings any database to the newest revision (creating it when empty);
``python -m marsrelay.service.db.migrate revision -m MESSAGE`` writes a new revision by
comparing the models with a scratch SQLite database at head (developers only).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from marsrelay.service.db.engine import Database

__all__ = ["current_revision", "head_revision", "migrate"]

SCRIPT_LOCATION = str(Path(__file__).resolve().parent.parent / "migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The database's revision (None: not initialised)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(db: Database) -> None:
    """Create or upgrade ``db``'s schema to the newest revision (idempotent)."""
    cfg = _config()
    with db.write_engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(f"sqlite:///{tmp}/scratch.db")
        try:
            migrate(db) if ScriptDirectory.from_config(_config()).get_current_head() else None
            cfg = _config()
            with db.write_engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.revision(cfg, message=message, autogenerate=True)
        finally:
            db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args()
    _revision(args.message)
