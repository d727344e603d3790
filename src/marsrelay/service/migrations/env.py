"""Alembic environment: runs on the connection that :func:`marsrelay.service.db.migrate`
hands over in ``config.attributes["connection"]`` (online mode only)."""

from __future__ import annotations

from alembic import context

from marsrelay.service.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through marsrelay.service.db.migrate (no connection)")
context.configure(
    connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True
)
with context.begin_transaction():
    context.run_migrations()
