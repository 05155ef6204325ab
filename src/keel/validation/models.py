"""The validation capability's table: one row per stored report, its verdict and where its full text is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from keel.store.base import Base, UTCDateTime


class ReportRow(Base):
    """A validation report's headline; the full report (every check) is a JSON object in the artifact store."""

    __tablename__ = "validation_reports"
    __table_args__ = (Index(None, "project_id", "subject"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    #: What was validated, as a typed reference (``dataset_version:<id>``).
    subject: Mapped[str] = mapped_column(String(250))
    #: Its readable address when validated (``churn/churn-new@v1``).
    address: Mapped[str] = mapped_column(String(300))
    suite: Mapped[str] = mapped_column(String(200))
    suite_digest: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool] = mapped_column(Boolean)
    checks: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(26), nullable=True)
    report_digest: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelReportRow(Base):
    """A model validation report's headline: which package, on which data, the verdict, where the full text is."""

    __tablename__ = "model_validation_reports"
    __table_args__ = (Index(None, "project_id", "package"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(26))
    #: The validated package's tree digest (a version's ``package_digest``).
    package: Mapped[str] = mapped_column(String(64))
    #: What the caller called it (``churn@3``).
    label: Mapped[str] = mapped_column(String(300))
    #: The data version, as a typed reference (``dataset_version:<id>``).
    data: Mapped[str] = mapped_column(String(250))
    data_address: Mapped[str] = mapped_column(String(300))
    passed: Mapped[bool] = mapped_column(Boolean)
    failed: Mapped[list[str]] = mapped_column(JSON)
    report_digest: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyRow(Base):
    """A project's validation policy: sensitive columns, the champion margin, what gates require."""

    __tablename__ = "validation_policies"

    project_id: Mapped[str] = mapped_column(String(26), primary_key=True)
    sensitive_columns: Mapped[list[str]] = mapped_column(JSON)
    min_improvement: Mapped[float] = mapped_column(Float)
    compare_metric: Mapped[str | None] = mapped_column(String(100), nullable=True)
    fairness_at_upper_bound: Mapped[bool] = mapped_column(Boolean)
    evaluation_dataset: Mapped[str | None] = mapped_column(String(200), nullable=True)
    require_validation: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
