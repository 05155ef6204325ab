"""Registry: per-project model policy (protected aliases, retention).

Revision ID: 0006b
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0006b"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_policies",
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("protected_aliases", sa.JSON(), nullable=False),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_model_policies"),
    )


def downgrade() -> None:
    op.drop_table("model_policies")
