"""The deployments table: which model version(s) a named endpoint serves, and how.

A deployment follows a *target* of one registered model (an alias such as
``production``, or a fixed version number), optionally with a canary (another
reference of the same model and the share of traffic it gets) and a shadow
(a reference that sees a copy of every request). Names are unique across
projects because a serving token names its deployment alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class DeploymentRow(Base):
    """One deployment: a model reference it follows, traffic splits and serving settings."""

    __tablename__ = "deployments"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26), index=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    model: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(100))  # an alias, or a version number as text
    canary: Mapped[str | None] = mapped_column(String(100), nullable=True)
    canary_percent: Mapped[int] = mapped_column(Integer)
    shadow: Mapped[str | None] = mapped_column(String(100), nullable=True)
    allow_unsafe_pickle: Mapped[bool] = mapped_column(Boolean)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
