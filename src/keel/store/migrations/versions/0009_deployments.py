"""Deployments: named endpoints following a model alias or version, with canary and shadow.

Revision ID: 0009_deployments
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_deployments"
down_revision = "0001"
branch_labels = ("deployments",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("canary", sa.String(100), nullable=True),
        sa.Column("canary_percent", sa.Integer(), nullable=False),
        sa.Column("shadow", sa.String(100), nullable=True),
        sa.Column("allow_unsafe_pickle", sa.Boolean(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deployments"),
        sa.UniqueConstraint("name", name="uq_deployments_name"),
    )
    op.create_index("ix_deployments_project_id", "deployments", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_deployments_project_id", table_name="deployments")
    op.drop_table("deployments")
