"""Pipelines: triggers (a project's retraining targets) and their firings.

Revision ID: 0008b
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008b"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_triggers",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("event", sa.String(300), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_by_id", sa.String(26), nullable=True),
        sa.Column("created_by_admin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_triggers"),
    )
    op.create_index("ix_pipeline_triggers_project_id", "pipeline_triggers", ["project_id"])
    op.create_table(
        "pipeline_firings",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("trigger_id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("event", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pipeline_run_id", sa.String(26), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["trigger_id"], ["pipeline_triggers.id"], name="fk_pipeline_firings_trigger_id_pipeline_triggers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_firings"),
        sa.UniqueConstraint("trigger_id", "dedup_key", name="uq_pipeline_firings_trigger_id_dedup_key"),
    )
    op.create_index("ix_pipeline_firings_trigger_id", "pipeline_firings", ["trigger_id"])
    op.create_index("ix_pipeline_firings_project_id", "pipeline_firings", ["project_id"])
    op.create_index("ix_pipeline_firings_status", "pipeline_firings", ["status"])


def downgrade() -> None:
    op.drop_index("ix_pipeline_firings_status", table_name="pipeline_firings")
    op.drop_index("ix_pipeline_firings_project_id", table_name="pipeline_firings")
    op.drop_index("ix_pipeline_firings_trigger_id", table_name="pipeline_firings")
    op.drop_table("pipeline_firings")
    op.drop_index("ix_pipeline_triggers_project_id", table_name="pipeline_triggers")
    op.drop_table("pipeline_triggers")
