"""What the monitoring operations take and return: monitors, reports, figures, alert rules and events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from keel.core.kpi import KPIReport
from keel.stats.drift import DriftResult, FeatureDrift
from keel.stats.drift_domain import DomainResult

MonitorName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", min_length=1, max_length=100)
]
Correction = Literal["holm", "bh", "none"]
FeatureKindName = Literal["numeric", "categorical"]


class Monitor(BaseModel):
    """A monitor: what it compares (a reference version's features), with which tests, and how strictly."""

    id: str
    project: str
    name: str
    reference: str
    reference_address: str
    reference_digest: str
    deployment: str | None
    features: list[str]
    kinds: dict[str, FeatureKindName]
    prediction: str | None
    label: str | None
    alpha: float
    correction: Correction
    tests: dict[str, list[str]]
    window_s: int
    latency_target_ms: float | None = None
    multivariate: bool = False
    created_by: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"monitor:{self.id}"


class InfraFigures(BaseModel):
    """A deployment's serving health over a window, from its prediction log.

    Latencies are the server's own per-request times; throughput counts
    predicted rows per second of the window; ``replicas_recommended`` scales
    today's replica count by p95 against the deployment's latency target.
    """

    requests: int
    rows: int
    window_s: float
    throughput_rps: float
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    model_versions: dict[str, int] = {}
    latency_target_ms: float | None = None
    replicas: int | None = None
    replicas_recommended: int | None = None


class KPIFigures(BaseModel):
    """Live KPIs over a window's labelled predictions, judged by the project's ``stage=online`` KPIs."""

    labeled: int
    metrics: dict[str, float]
    report: KPIReport


class EvaluationSummary(BaseModel):
    """One evaluated window or batch: the verdict, its figures, and where the full report is."""

    id: str
    project: str
    monitor: str
    source: str
    window_start: datetime | None
    window_end: datetime | None
    rows: int
    drifted: bool
    drift_share: float
    figures: dict[str, float]
    report_digest: str
    created_by: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"monitor_evaluation:{self.id}"


class MonitorReport(EvaluationSummary):
    """The full report: per-feature verdicts, prediction and label drift, live KPIs, serving health, alerts."""

    reference_address: str
    drift: DriftResult
    prediction: FeatureDrift | None = None
    label: FeatureDrift | None = None
    kpis: KPIFigures | None = None
    infra: InfraFigures | None = None
    multivariate: DomainResult | None = None
    notes: list[str] = []
    alerts: list[AlertEvent] = []


class AlertRule(BaseModel):
    """A rule over one figure of a monitor; ``secret`` (the webhook signing key) only when it is added."""

    id: str
    project: str
    monitor: str
    expression: str
    sink: str
    cooldown_s: int
    secret: str | None = None
    created_by: str
    created_at: datetime


class AlertEvent(BaseModel):
    """An alert: the rule that held, on which evaluation, with what value, and whether the sink got it."""

    id: str
    project: str
    monitor: str
    rule: str
    evaluation: str
    expression: str
    value: float
    state: Literal["firing", "resolved"]
    repeats: int
    delivery: str
    delivery_detail: str
    fired_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None


MonitorReport.model_rebuild()
