"""The prediction log's tables: segments (Parquet objects), one index row per predicted row, labels.

The heavy part of a prediction (its inputs and outputs) lives in a Parquet
segment in the artifact store; SQL holds only what joins and windows need:
which segment holds a request id, when, and from which version, plus the
labels that arrive later. Labels are keyed by (deployment, request id), so a
second label for one id is refused by the database itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class SegmentRow(Base):
    """One Parquet segment of a deployment's log: ``rows`` predictions from ``first_at`` to ``last_at``."""

    __tablename__ = "prediction_segments"
    __table_args__ = (Index(None, "deployment", "last_at"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    deployment: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PredictionRow(Base):
    """One predicted row's request id (``id`` or ``id:row``) and where it is: its segment and position.

    Only strings and integers, no generated id: the writer adds one per
    answered row, so each costs the database as little as it can. Times,
    versions, latencies, inputs and outputs are in the segment.
    """

    __tablename__ = "predictions"
    __table_args__ = (Index(None, "deployment", "request_id"),)

    segment_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[str] = mapped_column(String(200))


class LabelRow(Base):
    """The ground truth for one request id of a deployment, as it arrived later."""

    __tablename__ = "prediction_labels"
    __table_args__ = (UniqueConstraint("deployment", "request_id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    deployment: Mapped[str] = mapped_column(String(100))
    request_id: Mapped[str] = mapped_column(String(200))
    value: Mapped[Any] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
