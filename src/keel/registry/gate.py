"""The promotion gate: the project's offline KPIs, one ``evaluate_kpis`` verdict, against a version's metrics.

The metrics are the final metrics of the run that made the version, asked
of the tracking service by id (the registry never reads tracking's tables).
A version registered from files has no run: every KPI then counts as not
measured, so it cannot pass without an admin's override (the validation
stage will add its report as a second source through this same function).
"""

from __future__ import annotations

import math

from keel.context import Context
from keel.core.errors import NotFound
from keel.core.kpi import KPI, evaluate_kpis
from keel.registry.schemas import GateReport, ModelVersion
from keel.tracking.service import RunService
from keel.validation.evidence import Evidence, promotion_evidence


def version_metrics(ctx: Context, version: ModelVersion) -> tuple[dict[str, float], str]:
    """The metrics the gate judges ``version`` by, and where they came from."""
    if version.run_id is None:
        return {}, "none: the version was registered from files, not by a run"
    try:
        run = RunService(ctx).get(version.run_id)
    except NotFound:
        return {}, f"none: run {version.run_id} is gone"
    metrics = {k: float(v) for k, v in run.metrics.items() if not (isinstance(v, float) and math.isnan(v))}
    return metrics, f"run:{run.id}"


def evaluate_gate(ctx: Context, version: ModelVersion, kpis: list[KPI]) -> GateReport:
    """The gate's verdict on ``version``; it passes only when every offline KPI is met."""
    metrics, source = version_metrics(ctx, version)
    report = evaluate_kpis(kpis, metrics, stage="offline")
    evidence = validation_evidence(ctx, version)
    return GateReport(
        version=version,
        metrics=metrics,
        metrics_source=source,
        kpi_report=report,
        passed=report.passed and evidence.passed,
        validation=evidence.summary() if evidence.required else None,
    )


def validation_evidence(ctx: Context, version: ModelVersion) -> Evidence:
    """The validation capability's word on ``version`` (required only when the project's policy says so)."""
    return promotion_evidence(ctx, version.project, version.ref, version.package_digest)
