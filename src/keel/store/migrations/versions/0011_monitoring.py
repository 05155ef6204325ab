"""Monitoring: monitors, their evaluations, alert rules and alert events.

Revision ID: 0011_monitoring
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_monitoring"
down_revision = "0001"
branch_labels = ("monitoring",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitors",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("reference", sa.String(250), nullable=False),
        sa.Column("reference_address", sa.String(300), nullable=False),
        sa.Column("reference_digest", sa.String(64), nullable=False),
        sa.Column("deployment", sa.String(100), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitors"),
        sa.UniqueConstraint("project_id", "name", name="uq_monitors_project_id_name"),
    )
    op.create_table(
        "monitor_evaluations",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("monitor_id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("source", sa.String(250), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("drifted", sa.Boolean(), nullable=False),
        sa.Column("drift_share", sa.Float(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_evaluations"),
    )
    op.create_index("ix_monitor_evaluations_monitor_id_id", "monitor_evaluations", ["monitor_id", "id"])
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("monitor_id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("expression", sa.String(300), nullable=False),
        sa.Column("sink", sa.String(1000), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_index("ix_alert_rules_monitor_id", "alert_rules", ["monitor_id"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("rule_id", sa.String(26), nullable=False),
        sa.Column("monitor_id", sa.String(26), nullable=False),
        sa.Column("project_id", sa.String(26), nullable=False),
        sa.Column("evaluation_id", sa.String(26), nullable=False),
        sa.Column("expression", sa.String(300), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("delivery", sa.String(20), nullable=False),
        sa.Column("delivery_detail", sa.String(1000), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_project_id_id", "alert_events", ["project_id", "id"])
    op.create_index("ix_alert_events_rule_id_id", "alert_events", ["rule_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_rule_id_id", table_name="alert_events")
    op.drop_index("ix_alert_events_project_id_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alert_rules_monitor_id", table_name="alert_rules")
    op.drop_table("alert_rules")
    op.drop_index("ix_monitor_evaluations_monitor_id_id", table_name="monitor_evaluations")
    op.drop_table("monitor_evaluations")
    op.drop_table("monitors")
