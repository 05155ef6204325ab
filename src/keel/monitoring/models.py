"""The monitoring capability's tables: monitors, their evaluations, alert rules and alert events.

Heavy things live in the artifact store, addressed by hash: a monitor's
reference statistics (one ``.npz``) and each evaluation's full report (JSON).
Rows hold what listing, alerting and the server's ``/metrics`` read: the
verdict, the window, and the evaluation's figures as a flat JSON object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class MonitorRow(Base):
    """A monitor: a reference dataset version, the features it watches, and how it judges a window."""

    __tablename__ = "monitors"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    name: Mapped[str] = mapped_column(String(100))
    #: The reference as a typed reference (``dataset_version:<id>``) and its address when created.
    reference: Mapped[str] = mapped_column(String(250))
    reference_address: Mapped[str] = mapped_column(String(300))
    #: The stored reference statistics (artifact digest of one ``.npz``).
    reference_digest: Mapped[str] = mapped_column(String(64))
    deployment: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: Features, kinds, prediction/label columns, alpha, correction, tests, window, KPI settings.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EvaluationRow(Base):
    """One evaluated window (or batch): its verdict, figures, and where the full report is."""

    __tablename__ = "monitor_evaluations"
    __table_args__ = (Index(None, "monitor_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(String(26))
    project_id: Mapped[str] = mapped_column(String(26))
    #: What was evaluated: ``window`` (the prediction log), ``batch`` (uploaded rows) or a dataset version ref.
    source: Mapped[str] = mapped_column(String(250))
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rows: Mapped[int] = mapped_column(Integer)
    drifted: Mapped[bool] = mapped_column(Boolean)
    drift_share: Mapped[float] = mapped_column(Float)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    report_digest: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertRuleRow(Base):
    """A rule over one monitor figure (``drift.share > 0.3``), where it delivers, and its cooldown."""

    __tablename__ = "alert_rules"
    __table_args__ = (Index(None, "monitor_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    monitor_id: Mapped[str] = mapped_column(String(26))
    project_id: Mapped[str] = mapped_column(String(26))
    expression: Mapped[str] = mapped_column(String(300))
    #: ``log``, ``webhook:<url>`` or ``retrain``.
    sink: Mapped[str] = mapped_column(String(1000))
    cooldown_s: Mapped[int] = mapped_column(Integer)
    #: The key that signs webhook bodies (HMAC-SHA256); shown once, when the rule is added.
    secret: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertEventRow(Base):
    """An alert: a rule that held on an evaluation, deduplicated while it keeps holding within the cooldown."""

    __tablename__ = "alert_events"
    __table_args__ = (Index(None, "project_id", "id"), Index(None, "rule_id", "id"))

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(26))
    monitor_id: Mapped[str] = mapped_column(String(26))
    project_id: Mapped[str] = mapped_column(String(26))
    evaluation_id: Mapped[str] = mapped_column(String(26))
    expression: Mapped[str] = mapped_column(String(300))
    value: Mapped[float] = mapped_column(Float)
    #: ``firing`` (holding), ``resolved`` (stopped holding).
    state: Mapped[str] = mapped_column(String(20))
    #: Evaluations on which the rule held while this event was open (duplicates folded in).
    repeats: Mapped[int] = mapped_column(Integer)
    #: ``delivered``, ``failed`` or ``pending``; what the sink answered in ``delivery_detail``.
    delivery: Mapped[str] = mapped_column(String(20))
    delivery_detail: Mapped[str] = mapped_column(String(1000))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
