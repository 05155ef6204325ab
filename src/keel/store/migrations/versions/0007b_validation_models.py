"""Validation: stored model validation reports and each project's validation policy.

Revision ID: 0007b
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007b"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_validation_reports",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("package", sa.String(64), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("data", sa.String(250), nullable=False),
        sa.Column("data_address", sa.String(300), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("failed", sa.JSON(), nullable=False),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_validation_reports"),
    )
    op.create_index(
        "ix_model_validation_reports_project_id_package",
        "model_validation_reports",
        ["project_id", "package"],
    )
    op.create_table(
        "validation_policies",
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("sensitive_columns", sa.JSON(), nullable=False),
        sa.Column("min_improvement", sa.Float(), nullable=False),
        sa.Column("compare_metric", sa.String(100), nullable=True),
        sa.Column("fairness_at_upper_bound", sa.Boolean(), nullable=False),
        sa.Column("evaluation_dataset", sa.String(200), nullable=True),
        sa.Column("require_validation", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_validation_policies"),
    )


def downgrade() -> None:
    op.drop_table("validation_policies")
    op.drop_index("ix_model_validation_reports_project_id_package", table_name="model_validation_reports")
    op.drop_table("model_validation_reports")
