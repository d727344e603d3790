"""Alembic migrations of the service's schema, shipped inside the package and run
programmatically (:func:`marsrelay.service.db.migrate.migrate`); batch mode keeps SQLite's
ALTERs possible. Add a revision: change ``db/models.py``, then
``python -m marsrelay.service.db.migrate revision -m "what changed"`` (autogenerate against a
scratch SQLite file), and read the result before committing it."""
