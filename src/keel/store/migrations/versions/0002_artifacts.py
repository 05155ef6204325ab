"""Artifacts: the references (digest, owner, project) that are the artifact store's garbage-collection roots.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = ("artifacts",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifact_refs",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=True),
        sa.PrimaryKeyConstraint("digest", "owner", name="pk_artifact_refs"),
    )
    op.create_index("ix_artifact_refs_owner", "artifact_refs", ["owner"])
    op.create_index("ix_artifact_refs_project_id", "artifact_refs", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_artifact_refs_project_id", table_name="artifact_refs")
    op.drop_index("ix_artifact_refs_owner", table_name="artifact_refs")
    op.drop_table("artifact_refs")
