"""The tracking tables, owned by this capability.

Metric points are an append-only Core table (no primary key, no ORM identity
map) written in batches through ``Store.insert_many``: each row packs one
batch's points of one key as arrays, so a batch of 5,000 points over 10 keys
is 10 rows, not 5,000 rows and 5,000 index entries. Several processes may log
to one run at once and all their points are kept. ``run_latest_metrics``
holds one row per (run, key) -- the final value, at the highest step with the
latest timestamp breaking ties -- so search filters and orders on an index
instead of scanning history. ``run_batches`` remembers (client id, sequence)
of every stored batch, so a batch re-sent after a lost answer is stored once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class RunRow(Base):
    """One run: who, when, where, its status and the figures computed when it ends."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_project_id_start_time", "project_id", "start_time"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    project_name: Mapped[str] = mapped_column(String(100))  # projects are never renamed
    name: Mapped[str] = mapped_column(String(250), index=True)
    status: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(String(26), index=True)
    user: Mapped[str] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Last sign of life from a process logging to it; a RUNNING run silent too long is marked KILLED.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column(Float)
    hourly_price: Mapped[float | None] = mapped_column(Float)
    cost: Mapped[float | None] = mapped_column(Float)
    energy_kwh: Mapped[float | None] = mapped_column(Float)
    kpi_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    kpi_passed: Mapped[bool | None] = mapped_column(Boolean)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON)
    deleted: Mapped[bool] = mapped_column(Boolean)


class ParamRow(Base):
    """A hyperparameter: immutable within its run; ``value_num`` makes numeric comparison indexable."""

    __tablename__ = "run_params"
    __table_args__ = (Index("ix_run_params_key_value_num", "key", "value_num"),)

    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)


class TagRow(Base):
    """A tag: free text that may change."""

    __tablename__ = "run_tags"

    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LatestMetricRow(Base):
    """The final value of each metric of each run (highest step, then latest timestamp)."""

    __tablename__ = "run_latest_metrics"
    __table_args__ = (Index("ix_run_latest_metrics_key_value", "key", "value"),)

    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)  # NULL is NaN
    step: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class BatchRow(Base):
    """A stored batch (client id, sequence number): a re-sent batch is recognised and skipped."""

    __tablename__ = "run_batches"

    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class RunArtifactRow(Base):
    """A file a run produced, by path within the run, naming its object in the artifact store."""

    __tablename__ = "run_artifacts"

    run_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


#: Every logged metric point, packed: one row per (batch, key) holding its points as arrays.
#: ``data`` is ``fmt`` 1: little-endian int64 steps, int64 Unix-ms timestamps, float64 values
#: (NaN and infinities as themselves), ``count`` of each, back to back.
metric_chunks = Table(
    "run_metric_chunks",
    Base.metadata,
    Column("run_id", String(26), nullable=False),
    Column("key", String(250), nullable=False),
    Column("first_step", BigInteger, nullable=False),
    Column("last_step", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("fmt", SmallInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Index("ix_run_metric_chunks_run_id_key_first_step", "run_id", "key", "first_step"),
)
