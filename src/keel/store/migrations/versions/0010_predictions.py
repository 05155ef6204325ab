"""The prediction log: Parquet segments, an index row per predicted row, and delayed labels.

Revision ID: 0010_predictions
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_predictions"
down_revision = "0001"
branch_labels = ("predictions",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prediction_segments",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_segments"),
    )
    op.create_index(
        "ix_prediction_segments_deployment_last_at", "prediction_segments", ["deployment", "last_at"]
    )
    op.create_table(
        "predictions",
        sa.Column("segment_id", sa.String(26), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "position", name="pk_predictions"),
    )
    op.create_index("ix_predictions_deployment_request_id", "predictions", ["deployment", "request_id"])
    op.create_table(
        "prediction_labels",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(200), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prediction_labels"),
        sa.UniqueConstraint("deployment", "request_id", name="uq_prediction_labels_deployment_request_id"),
    )


def downgrade() -> None:
    op.drop_table("prediction_labels")
    op.drop_index("ix_predictions_deployment_request_id", table_name="predictions")
    op.drop_table("predictions")
    op.drop_index("ix_prediction_segments_deployment_last_at", table_name="prediction_segments")
    op.drop_table("prediction_segments")
