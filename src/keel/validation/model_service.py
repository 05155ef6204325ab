"""Model validation operations: parity, metrics/KPIs/champion/slices/fairness reports, the project's policy.

Validation sits below the registry, so it never reads the registry's tables:
a model arrives as a package digest (the tree a version's ``package_digest``
names), which the caller -- the CLI, the SDK, the registry's gate --
resolved from ``churn@candidate``. The package is checked out of the
artifact store into a temporary folder and loaded by
:func:`keel.models.load_dir`, the loader the model server uses, so every
file is verified against its digest first.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.artifact_service.visibility import visible
from keel.artifacts.digest import check_digest
from keel.artifacts.references import add_refs
from keel.context import Service
from keel.core.constraints import Digest, Limit, PageToken, Tolerance
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.kpi import KPI
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.datasets.service import DataService
from keel.lineage import add_edges
from keel.models.load import Model, load_dir
from keel.projects.service import find_project
from keel.validation.model_schemas import ModelValidationReport, ModelValidationSummary, ValidationPolicy
from keel.validation.models import ModelReportRow, PolicyRow
from keel.validation.parity_schemas import ParityReport
from keel.validation.tables import read_table

_BASE = "/api/v1/projects/{project}/validation"


class ModelValidationOperations(Service):
    """The model half of the validation service (mixed into :class:`ValidationService`)."""

    name = "validation"

    @contextmanager
    def _package(self, project: str, package: str) -> Iterator[Path]:
        """Package ``package`` checked out (verified) into a temporary folder."""
        check_digest(package)
        with self.store.read() as session:
            project_id = find_project(session, project).id
            if not visible(session, project_id, [package]) or not self.ctx.artifacts.exists([package]):
                raise NotFound(f"no package {package} in project {project!r}'s artifacts")
        if not self.ctx.artifacts.is_tree(package):
            raise InvalidInput(f"{package} is a file, not a model package (a folder)")
        with tempfile.TemporaryDirectory(prefix="keel-validate-") as tmp:
            folder = Path(tmp, "package")
            self.ctx.artifacts.checkout_tree(package, folder)
            yield folder

    @operation("POST", _BASE + "/parity", action=Action.READ, project=project_from("project"))
    def check_parity(
        self, project: str, package: Digest, rtol: Tolerance | None = None, atol: Tolerance | None = None
    ) -> ParityReport:
        """Replay a package's recorded raw rows through its preprocessing as the model server loads it.

        A mismatch is a failing report naming feature and row, not an error.
        Raises InvalidInput for a package without preprocessing or one whose
        preprocessing cannot be loaded, NotFound for an unknown package.
        """
        from keel.validation.parity import check_parity

        if (rtol is not None and rtol < 0) or (atol is not None and atol < 0):
            raise InvalidInput("rtol and atol must be non-negative")
        with self._package(project, package) as folder:
            report = check_parity(folder, rtol=rtol, atol=atol)
        report.package = package
        return report

    @operation("GET", _BASE + "/policy", action=Action.READ, project=project_from("project"))
    def policy(self, project: str) -> ValidationPolicy:
        """The project's validation policy (defaults when none was set)."""
        with self.store.read() as session:
            row = session.get(PolicyRow, find_project(session, project).id)
            return _policy(row, project)

    @operation("PUT", _BASE + "/policy", action=Action.ADMIN, project=project_from("project"))
    def set_policy(
        self,
        project: str,
        sensitive_columns: list[str] | None = None,
        min_improvement: float | None = None,
        compare_metric: str | None = None,
        fairness_at_upper_bound: bool | None = None,
        evaluation_dataset: str | None = None,
        require_validation: bool | None = None,
    ) -> ValidationPolicy:
        """Change the fields given (admin: the policy decides what promotion needs); the rest stay."""
        if sensitive_columns is not None:
            bad = [c for c in sensitive_columns if not c or not c.strip()]
            if bad or len(set(sensitive_columns)) != len(sensitive_columns):
                raise InvalidInput("sensitive_columns must be distinct, non-empty column names")
        if min_improvement is not None and not -1e9 < min_improvement < 1e9:
            raise InvalidInput(f"min_improvement {min_improvement} is not a usable number")
        with self.store.write() as session:
            project_id = find_project(session, project).id
            row = session.get(PolicyRow, project_id)
            if row is None:
                row = PolicyRow(
                    project_id=project_id,
                    sensitive_columns=[],
                    min_improvement=0.0,
                    compare_metric=None,
                    fairness_at_upper_bound=False,
                    evaluation_dataset=None,
                    require_validation=False,
                    updated_at=utcnow(),
                )
                session.add(row)
            if sensitive_columns is not None:
                row.sensitive_columns = list(sensitive_columns)
            if min_improvement is not None:
                row.min_improvement = min_improvement
            if compare_metric is not None:
                row.compare_metric = compare_metric or None
            if fairness_at_upper_bound is not None:
                row.fairness_at_upper_bound = fairness_at_upper_bound
            if evaluation_dataset is not None:
                row.evaluation_dataset = evaluation_dataset or None
            if require_validation is not None:
                row.require_validation = require_validation
            row.updated_at = utcnow()
            self.ctx.audit(session, "validation.policy", f"project:{project_id}", project_id=project_id)
            return _policy(row, project)

    @operation(
        "POST", _BASE + "/models", action=Action.WRITE, project=project_from("project"), status_code=201
    )
    def validate_model(
        self,
        project: str,
        package: str,
        dataset: str,
        label_column: str,
        version: str = "latest",
        label: str | None = None,
        champion: str | None = None,
        champion_label: str | None = None,
        slices: list[str] | None = None,
        n_boot: int = 1000,
        task: Literal["classification", "regression"] | None = None,
    ) -> ModelValidationReport:
        """Measure a package on a labelled table version; store the report (passing or not).

        Metrics (classification or regression), the project's offline KPIs
        (``slice=`` and ``group=`` ones included), the champion package on the
        same rows with the policy's minimum improvement, slice metrics, and
        fairness for the policy's sensitive columns and the KPIs' groups.
        Raises InvalidInput for missing columns or labels, a single sensitive
        group, a model that cannot predict on the rows; NotFound for an
        unknown package or version.
        """
        from keel.validation.evaluate import evaluate
        from keel.validation.parity import check_parity

        found = DataService(self.ctx).version(project, dataset, version)
        frame = read_table(self.ctx, found).to_pandas()
        with self.store.read() as session:
            project_row = find_project(session, project)
            kpis = [KPI.model_validate(k) for k in project_row.kpis]
            rules = _policy(session.get(PolicyRow, project_row.id), project)
        with self._package(project, package) as folder:
            model = load_dir(folder)
            parity = None
            if model.manifest.preprocessing_fingerprint is not None:
                parity = check_parity(folder)
            with self._champion(project, champion, champion_label) as rival:
                result = evaluate(
                    model,
                    frame,
                    label=label_column,
                    kpis=kpis,
                    sensitive=rules.sensitive_columns,
                    slices=list(slices or []),
                    champion=rival,
                    min_improvement=rules.min_improvement,
                    compare_metric=rules.compare_metric,
                    fairness_at_upper_bound=rules.fairness_at_upper_bound,
                    n_boot=n_boot,
                    task=task,
                )
        if parity is not None and not parity.passed:
            result.failed.append(f"parity: {parity.message}")
        report = ModelValidationReport(
            id=new_id(),
            project=project,
            package=package,
            label=label or package[:12],
            data=found.ref,
            data_address=found.address,
            passed=not result.failed,
            failed=result.failed,
            report_digest="0" * 64,
            author=current_caller().name,
            created_at=utcnow(),
            task=result.task,
            rows=len(frame),
            label_column=label_column,
            metrics=result.metrics,
            kpi_report=result.kpi_report,
            champion=result.champion,
            slices=result.slices,
            fairness=result.fairness,
            parity=None if parity is None else parity.message,
        )
        report.report_digest = self.ctx.artifacts.put_bytes(
            report.model_dump_json(exclude={"report_digest"}).encode()
        )
        self.ctx.artifacts.sync()
        with self.store.write() as session:
            project_id = find_project(session, project).id
            session.add(
                ModelReportRow(
                    id=report.id,
                    project_id=project_id,
                    package=package,
                    label=report.label,
                    data=report.data,
                    data_address=report.data_address,
                    passed=report.passed,
                    failed=report.failed,
                    report_digest=report.report_digest,
                    author=report.author,
                    created_at=report.created_at,
                )
            )
            add_refs(session, [(report.report_digest, report.ref)], project_id=project_id)
            add_edges(
                session, [(report.ref, "validates", f"artifact:{package}"), (report.ref, "used", report.data)]
            )
        return report

    @contextmanager
    def _champion(
        self, project: str, champion: str | None, label: str | None
    ) -> Iterator[tuple[Model, str, str] | None]:
        if champion is None:
            yield None
            return
        with self._package(project, champion) as folder:
            yield load_dir(folder), champion, label or champion[:12]

    @operation("GET", _BASE + "/models", action=Action.READ, project=project_from("project"))
    def model_reports(
        self,
        project: str,
        package: str | None = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
    ) -> Page[ModelValidationSummary]:
        """Stored model validation reports, newest first; of one package with ``package``."""
        check_page_size(limit)
        with self.store.read() as session:
            query = (
                select(ModelReportRow)
                .where(ModelReportRow.project_id == find_project(session, project).id)
                .order_by(ModelReportRow.id.desc())
                .limit(limit + 1)
            )
            if package is not None:
                query = query.where(ModelReportRow.package == package)
            if page_token:
                query = query.where(ModelReportRow.id < token_position(page_token, "before", str))
            rows = list(session.execute(query).scalars())
        items = [summary(r, project) for r in rows[:limit]]
        token = encode_token({"before": items[-1].id}) if len(rows) > limit else None
        return Page[ModelValidationSummary](items=items, next_token=token)

    @operation("GET", _BASE + "/models/{report_id}", action=Action.READ, project=project_from("project"))
    def model_report(self, project: str, report_id: str) -> ModelValidationReport:
        """One stored model validation report, in full."""
        with self.store.read() as session:
            row = session.get(ModelReportRow, report_id)
            if row is None or row.project_id != find_project(session, project).id:
                raise NotFound(f"no model validation report {report_id} in project {project!r}")
            digest = row.report_digest
        stored = json.loads(self.ctx.artifacts.read_bytes(digest))
        return ModelValidationReport.model_validate({**stored, "report_digest": digest})


def policy_of(session: Session, project_id: str, project: str) -> ValidationPolicy:
    """The project's policy, read in the caller's session (defaults when none was set)."""
    return _policy(session.get(PolicyRow, project_id), project)


def _policy(row: PolicyRow | None, project: str) -> ValidationPolicy:
    if row is None:
        return ValidationPolicy(project=project)
    return ValidationPolicy(
        project=project,
        sensitive_columns=list(row.sensitive_columns),
        min_improvement=row.min_improvement,
        compare_metric=row.compare_metric,
        fairness_at_upper_bound=row.fairness_at_upper_bound,
        evaluation_dataset=row.evaluation_dataset,
        require_validation=row.require_validation,
    )


def summary(row: ModelReportRow, project: str) -> ModelValidationSummary:
    """A stored row as the summary the listing and the gate return."""
    return ModelValidationSummary(
        id=row.id,
        project=project,
        package=row.package,
        label=row.label,
        data=row.data,
        data_address=row.data_address,
        passed=row.passed,
        failed=list(row.failed),
        report_digest=row.report_digest,
        author=row.author,
        created_at=row.created_at,
    )
