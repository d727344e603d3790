"""an index of requests by lander and state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 23:15:00

A lander team's open requests (``GET /requests?lander=X&state=requested``) were found through
the agency indexes, i.e. by reading every request of the agency ever made (the service
benchmark's profile); this index finds them directly.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_requests_lander_state", ["lander_id", "state", "start_ms"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_lander_state")
