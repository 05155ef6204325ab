"""What model validation returns: metrics, KPI verdicts, the champion comparison, slices and fairness."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from keel.core.kpi import KPIReport


class Estimate(BaseModel):
    """A value with its bootstrap interval (``low``/``high`` absent when no resampling was done)."""

    value: float
    low: float | None = None
    high: float | None = None


class GroupMetrics(BaseModel):
    """One group of a sensitive column: its row count and metrics (selection rate, recall, FPR, accuracy)."""

    group: str
    count: int
    metrics: dict[str, Estimate]


class FairnessReport(BaseModel):
    """Per-group metrics and disparities across the values of one sensitive column."""

    column: str
    groups: list[GroupMetrics]
    disparities: dict[str, Estimate]
    n_boot: int
    confidence: float


class SliceMetrics(BaseModel):
    """The metrics on the rows where ``column`` equals ``value``."""

    column: str
    value: str
    rows: int
    metrics: dict[str, float]


class ChampionComparison(BaseModel):
    """The candidate against the alias holder on the same rows, on one metric."""

    package: str
    label: str
    metric: str
    candidate: float | None
    champion: float | None
    improvement: float | None
    min_improvement: float
    passed: bool
    metrics: dict[str, float] = {}


class ValidationPolicy(BaseModel):
    """What a project asks of model validation: sensitive columns, the champion margin, the evidence gates need."""

    project: str
    sensitive_columns: list[str] = []
    min_improvement: float = 0.0
    compare_metric: str | None = None
    fairness_at_upper_bound: bool = Field(
        default=False, description="fairness KPIs are judged at the conservative end of their interval"
    )
    evaluation_dataset: str | None = Field(
        default=None, description="the dataset (name) whose versions gate evidence must be computed on"
    )
    require_validation: bool = Field(
        default=False, description="promotion to a protected alias needs a passing model validation report"
    )


class ModelValidationSummary(BaseModel):
    """A stored model validation report's headline."""

    id: str
    project: str
    package: str
    label: str
    data: str
    data_address: str
    passed: bool
    failed: list[str]
    report_digest: str
    author: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"validation_report:{self.id}"


class ModelValidationReport(ModelValidationSummary):
    """Everything measured: metrics, KPI verdicts, champion, slices, fairness, parity."""

    task: str
    rows: int
    label_column: str
    metrics: dict[str, float]
    kpi_report: KPIReport
    champion: ChampionComparison | None = None
    slices: list[SliceMetrics] = []
    fairness: list[FairnessReport] = []
    parity: str | None = None
