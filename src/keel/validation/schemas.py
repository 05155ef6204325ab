"""What validation returns: each check's verdict with its evidence, anomalies, and the stored report."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

Verdict = Literal["pass", "fail", "skip"]


class FailingRow(BaseModel):
    """One row that broke a rule: its index in the version (0-based) and the offending value."""

    index: int
    value: Any


class Histogram(BaseModel):
    """Reference-vs-new counts over the same bins (numeric: ``edges``; categorical: ``labels``)."""

    edges: list[float] = []
    labels: list[str] = []
    reference: list[int]
    new: list[int]


class CheckResult(BaseModel):
    """One check: what was measured, the threshold it was held to, and the verdict."""

    check: str
    column: str | None = None
    verdict: Verdict
    observed: Any = None
    threshold: Any = None
    message: str = ""
    failing_count: int = 0
    failing_rows: list[FailingRow] = []
    p_value: float | None = None
    adjusted_p: float | None = None
    effect: float | None = None
    histogram: Histogram | None = None


class Anomaly(BaseModel):
    """Rows worth a look though no rule failed: robust z-score outliers of a column, or duplicate rows."""

    kind: Literal["outliers", "duplicate_rows"]
    column: str | None = None
    count: int
    rows: list[FailingRow] = []


class ReportSummary(BaseModel):
    """A stored report's headline: which version, which suite, the verdict, and where the full report is."""

    id: str
    project: str
    subject: str
    address: str
    suite: str
    suite_digest: str
    passed: bool
    checks: int
    failed: int
    run: str | None = None
    report_digest: str
    author: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"validation_report:{self.id}"


class ValidationReport(ReportSummary):
    """The full report: every check and every anomaly."""

    rows: int
    results: list[CheckResult]
    anomalies: list[Anomaly] = []

    def failures(self) -> list[CheckResult]:
        """The checks that failed, in suite order."""
        return [r for r in self.results if r.verdict == "fail"]
