"""The validation capability's table: one row per stored report, its verdict and where its full text is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String
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
