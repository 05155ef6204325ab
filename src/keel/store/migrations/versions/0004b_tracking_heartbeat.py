"""Tracking: runs.heartbeat_at, so a run whose process died can be marked KILLED.

Revision ID: 0004b
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004b"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("heartbeat_at")
