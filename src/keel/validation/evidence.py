"""Promotion evidence: what validation says about a model version, asked by the registry's gate.

The registry sits above validation, so its gate calls :func:`promotion_evidence`
with what it knows (the project, the version's reference and package digest)
and validation answers from its own tables. When the project's policy
requires validation, promotion needs:

- a passing model validation report for that exact package (metrics, KPIs,
  champion, fairness, parity), on the policy's evaluation dataset when it
  names one -- the newest such report decides, identified by its digest;
- no failing data validation report as the newest verdict on any dataset
  version the model's lineage reaches upstream (the run's training data).
"""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select

from keel.context import Context
from keel.lineage import upstream
from keel.projects.service import find_project
from keel.validation.model_schemas import ValidationPolicy
from keel.validation.model_service import policy_of
from keel.validation.models import ModelReportRow, ReportRow


class Evidence(BaseModel):
    """The validation side of a promotion gate: required or not, passed or not, and why."""

    required: bool
    passed: bool
    reasons: list[str] = []
    model_report: str | None = None
    model_report_digest: str | None = None

    def summary(self) -> str:
        if not self.required:
            return "not required by the project's policy"
        if self.passed:
            return f"passing model validation report {self.model_report} ({(self.model_report_digest or '')[:12]})"
        return "; ".join(self.reasons)


def _dataset_of(address: str) -> str:
    """``churn/churn-holdout@v2`` -> ``churn-holdout``."""
    return address.rsplit("/", 1)[-1].split("@", 1)[0]


def promotion_evidence(ctx: Context, project: str, version_ref: str, package: str) -> Evidence:
    """Whether validation lets ``version_ref`` (package ``package``) be promoted, and why not."""
    with ctx.store.read() as session:
        project_id = find_project(session, project).id
        rules: ValidationPolicy = policy_of(session, project_id, project)
        if not rules.require_validation:
            return Evidence(required=False, passed=True)
        reasons: list[str] = []
        rows = session.execute(
            select(ModelReportRow)
            .where(ModelReportRow.project_id == project_id, ModelReportRow.package == package)
            .order_by(ModelReportRow.id.desc())
        ).scalars()
        wanted = rules.evaluation_dataset
        newest = next((r for r in rows if wanted is None or _dataset_of(r.data_address) == wanted), None)
        where = f" on {wanted}" if wanted else ""
        if newest is None:
            reasons.append(f"no model validation report for this version{where}")
        elif not newest.passed:
            reasons.append(f"model validation report {newest.id}{where} failed: {'; '.join(newest.failed)}")
        data_refs = sorted(
            {e.dst for e in upstream(session, version_ref) if e.dst.startswith("dataset_version:")}
        )
        for ref in data_refs:
            latest = session.execute(
                select(ReportRow)
                .where(ReportRow.project_id == project_id, ReportRow.subject == ref)
                .order_by(ReportRow.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            if latest is not None and not latest.passed:
                reasons.append(
                    f"training data {latest.address} failed suite {latest.suite!r} (report {latest.id})"
                )
        return Evidence(
            required=True,
            passed=not reasons,
            reasons=reasons,
            model_report=newest.id if newest is not None and newest.passed else None,
            model_report_digest=newest.report_digest if newest is not None and newest.passed else None,
        )
