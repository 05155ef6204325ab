"""Tracking: runs, params, tags, packed metric points, final metrics, stored batches, run artifacts.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("tracking",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("project_name", sa.String(100), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("parent_id", sa.String(26), nullable=True),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("hourly_price", sa.Float(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("energy_kwh", sa.Float(), nullable=True),
        sa.Column("kpi_report", sa.JSON(), nullable=True),
        sa.Column("kpi_passed", sa.Boolean(), nullable=True),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_project_id_start_time", "runs", ["project_id", "start_time"])
    op.create_index("ix_runs_name", "runs", ["name"])
    op.create_index("ix_runs_parent_id", "runs", ["parent_id"])
    op.create_table(
        "run_params",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_params"),
    )
    op.create_index("ix_run_params_key_value_num", "run_params", ["key", "value_num"])
    op.create_table(
        "run_tags",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_tags"),
    )
    op.create_table(
        "run_latest_metrics",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "key", name="pk_run_latest_metrics"),
    )
    op.create_index("ix_run_latest_metrics_key_value", "run_latest_metrics", ["key", "value"])
    op.create_table(
        "run_batches",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "client_id", "seq", name="pk_run_batches"),
    )
    op.create_table(
        "run_artifacts",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "path", name="pk_run_artifacts"),
    )
    op.create_table(
        "run_metric_chunks",
        sa.Column("run_id", sa.String(26), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("first_step", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("fmt", sa.SmallInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_index(
        "ix_run_metric_chunks_run_id_key_first_step", "run_metric_chunks", ["run_id", "key", "first_step"]
    )


def downgrade() -> None:
    op.drop_index("ix_run_metric_chunks_run_id_key_first_step", table_name="run_metric_chunks")
    op.drop_table("run_metric_chunks")
    op.drop_table("run_artifacts")
    op.drop_table("run_batches")
    op.drop_index("ix_run_latest_metrics_key_value", table_name="run_latest_metrics")
    op.drop_table("run_latest_metrics")
    op.drop_table("run_tags")
    op.drop_index("ix_run_params_key_value_num", table_name="run_params")
    op.drop_table("run_params")
    op.drop_index("ix_runs_parent_id", table_name="runs")
    op.drop_index("ix_runs_name", table_name="runs")
    op.drop_index("ix_runs_project_id_start_time", table_name="runs")
    op.drop_table("runs")
