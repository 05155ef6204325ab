"""The pipelines tables: pipeline runs, their step runs, the step cache, triggers and their firings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class PipelineRunRow(Base):
    """One run of a pipeline; ``run_id`` is its parent run in tracking."""

    __tablename__ = "pipeline_runs"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26), index=True)
    pipeline: Mapped[str] = mapped_column(String(200))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    run_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    failed_step: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PipelineStepRow(Base):
    """One step of a pipeline run: its place in the DAG, status, cache key, output and child run."""

    __tablename__ = "pipeline_steps"

    pipeline_run_id: Mapped[str] = mapped_column(ForeignKey("pipeline_runs.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column()
    upstream: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    cached: Mapped[bool] = mapped_column(Boolean)
    cache_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    output_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    output_format: Mapped[str | None] = mapped_column(String(20), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class StepCacheRow(Base):
    """A finished step's output by cache key, per project: shared by every machine on this database."""

    __tablename__ = "pipeline_cache"

    project_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(200))
    output_digest: Mapped[str] = mapped_column(String(64))
    output_format: Mapped[str] = mapped_column(String(20))
    pipeline_run_id: Mapped[str] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TriggerRow(Base):
    """A pipeline registered as a project's retraining target, and what starts it (``event``)."""

    __tablename__ = "pipeline_triggers"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26), index=True)
    target: Mapped[str] = mapped_column(Text)
    event: Mapped[str] = mapped_column(String(300))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    cooldown_s: Mapped[int] = mapped_column()
    #: What the worker last saw: the newest data version id, or the last scheduled minute checked.
    state: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    created_by_admin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FiringRow(Base):
    """One firing of a trigger: queued, claimed by one worker under a lease, then done or failed."""

    __tablename__ = "pipeline_firings"
    __table_args__ = (UniqueConstraint("trigger_id", "dedup_key"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    trigger_id: Mapped[str] = mapped_column(ForeignKey("pipeline_triggers.id"), index=True)
    project_id: Mapped[str] = mapped_column(String(26), index=True)
    event: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    dedup_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), index=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pipeline_run_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
