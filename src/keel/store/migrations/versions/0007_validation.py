"""Validation: stored reports of data (and later model) validation.

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = ("validation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "validation_reports",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("suite", sa.String(200), nullable=False),
        sa.Column("suite_digest", sa.String(64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(26), nullable=True),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_validation_reports"),
    )
    op.create_index(
        "ix_validation_reports_project_id_subject", "validation_reports", ["project_id", "subject"]
    )


def downgrade() -> None:
    op.drop_index("ix_validation_reports_project_id_subject", table_name="validation_reports")
    op.drop_table("validation_reports")
