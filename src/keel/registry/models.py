"""The registry's tables: models, their immutable versions, aliases and every move of an alias."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class ModelRow(Base):
    """A named model of one project."""

    __tablename__ = "registered_models"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelVersionRow(Base):
    """One immutable version: a package (an artifact tree, by digest) and where it came from."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("model_id", "number"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    package_digest: Mapped[str] = mapped_column(String(64), index=True)
    flavor: Mapped[str] = mapped_column(String(50))
    run_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    size: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text)
    tags: Mapped[dict[str, str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))  # "active" | "archived"
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelAliasRow(Base):
    """``churn@production``: a movable name for one version of a model."""

    __tablename__ = "model_aliases"
    __table_args__ = (UniqueConstraint("model_id", "alias"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id"), index=True)
    alias: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id"))
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AliasMoveRow(Base):
    """Each move of an alias (set, promote, rollback), kept so a rollback knows the previous holder."""

    __tablename__ = "model_alias_moves"
    __table_args__ = (Index(None, "model_id", "alias"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id"))
    alias: Mapped[str] = mapped_column(String(100))
    version_id: Mapped[str] = mapped_column(String(26))
    previous_version_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    action: Mapped[str] = mapped_column(String(10))  # "set" | "promote" | "rollback"
    moved_by: Mapped[str] = mapped_column(String(200))
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelPolicyRow(Base):
    """A project's registry policy: which aliases only admins move, and how many unaliased versions to keep."""

    __tablename__ = "model_policies"

    project_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    protected_aliases: Mapped[list[str]] = mapped_column(JSON)
    keep_last: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
