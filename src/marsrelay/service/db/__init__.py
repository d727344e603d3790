"""Storage: SQLAlchemy 2 models, the engine (SQLite WAL or PostgreSQL through psycopg 3), the
repository and the unit of work. Schema changes go through Alembic (``../migrations``)."""
