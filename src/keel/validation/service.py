"""Validation operations: infer a suite from a version, validate a version against a suite, read reports.

The suite travels as data (a :class:`Suite` body), so the same operation
serves the CLI reading a YAML file, the SDK building a suite in Python, and
REST. Tables are read from the artifact store here, beside the data, so a
remote client never downloads a version to validate it. A report is stored as
a JSON object in the artifact store (referenced by ``validation_report:<id>``)
with a row holding its verdict, and a ``validates`` lineage edge to the
version (a ``made_in`` edge to the run, when one is named).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sqlalchemy import select

from keel.artifacts.references import add_refs
from keel.core.constraints import Digests, Limit, PageToken
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.datasets.service import DataService
from keel.lineage import add_edges
from keel.projects.idprefix import find_id
from keel.projects.service import find_project
from keel.validation.model_service import ModelValidationOperations
from keel.validation.models import ReportRow
from keel.validation.schemas import ReportSummary, ValidationReport
from keel.validation.suite import Suite
from keel.validation.tables import read_table

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.datasets.schemas import DatasetVersion

_BASE = "/api/v1/projects/{project}/validation"


class ValidationService(ModelValidationOperations):
    """Data validation: suites inferred from a reference version, and stored reports with verdicts."""

    name = "validation"

    @operation("POST", _BASE + "/suites/infer", action=Action.READ, project=project_from("project"))
    def infer_suite(
        self, project: str, dataset: str, version: str = "latest", name: str | None = None
    ) -> Suite:
        """A suite describing a table version (types, nulls, ranges, domains, formats, distributions).

        Raises InvalidInput for a folder-of-files dataset or a version with no rows.
        """
        from keel.validation.infer import infer_suite

        found = DataService(self.ctx).version(project, dataset, version)
        table = self._table(found)
        return infer_suite(
            table, name=name or dataset, reference=found.address, reference_digest=found.digest
        )

    @operation(
        "POST",
        _BASE + "/reports",
        action=Action.WRITE,
        project=project_from("project"),
        status_code=201,
    )
    def validate(
        self, project: str, dataset: str, suite: Suite, version: str = "latest", run: str | None = None
    ) -> ValidationReport:
        """Check a table version against a suite; store the report and link it to the version (and run).

        The verdict is in the report (``passed``); a failing report is a normal
        answer, not an error. Raises InvalidInput when the suite's reference
        has other content than when it was inferred, NotFound for an unknown
        version or run.
        """
        found = DataService(self.ctx).version(project, dataset, version)
        table = self._table(found)
        reference = self._reference(project, suite)
        if run is not None:
            from keel.tracking.service import RunService

            run_record = RunService(self.ctx).get(run)
            if run_record.project != project:
                raise InvalidInput(f"run {run} belongs to project {run_record.project!r}, not {project!r}")
        report = _checked(project, found.ref, found.address, table, suite, reference, run)
        body = report.model_dump_json(exclude={"report_digest"}).encode()
        report.report_digest = self.ctx.artifacts.put_bytes(body)
        self.ctx.artifacts.sync()
        with self.store.write() as session:
            project_id = find_project(session, project).id
            row = ReportRow(
                id=report.id,
                project_id=project_id,
                subject=report.subject,
                address=report.address,
                suite=report.suite,
                suite_digest=report.suite_digest,
                passed=report.passed,
                checks=report.checks,
                failed=report.failed,
                run_id=run,
                report_digest=report.report_digest,
                author=report.author,
                created_at=report.created_at,
            )
            session.add(row)
            add_refs(session, [(report.report_digest, report.ref)], project_id=project_id)
            edges = [(report.ref, "validates", report.subject)]
            if run is not None:
                edges.append((report.ref, "made_in", f"run:{run}"))
            add_edges(session, edges)
        return report

    @operation("POST", _BASE + "/check", action=Action.WRITE, project=project_from("project"))
    def check_parts(
        self, project: str, parts: Digests, suite: Suite, address: str = "new data"
    ) -> ValidationReport:
        """Check Parquet parts already uploaded (not yet a version) against a suite; nothing is stored.

        ``keel data add --require-valid`` calls it between uploading a table's
        objects and recording the version, so a failing table never becomes a
        version. Raises NotFound for a part this project cannot read,
        InvalidInput for no parts.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        from keel.artifact_service.visibility import visible
        from keel.artifacts.digest import check_digest

        if not parts:
            raise InvalidInput("parts is empty: name the uploaded Parquet parts to check")
        for digest in parts:
            check_digest(digest)
        with self.store.read() as session:
            project_id = find_project(session, project).id
            missing = set(parts) - self.ctx.artifacts.exists(parts)
            if not current_caller().is_admin:
                missing |= set(parts) - visible(session, project_id, parts)
        if missing:
            raise NotFound(f"no Parquet part {sorted(missing)[0]} readable by project {project!r}")
        tables = []
        for digest in parts:
            with self.ctx.artifacts.open(digest) as handle:
                tables.append(pq.read_table(handle))
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        return _checked(
            project, f"artifact:{parts[0]}", address, table, suite, self._reference(project, suite)
        )

    @operation("GET", _BASE + "/reports", action=Action.READ, project=project_from("project"))
    def reports(
        self,
        project: str,
        dataset: str | None = None,
        version: str | None = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
    ) -> Page[ReportSummary]:
        """Stored reports of a project, newest first; of one version with ``dataset`` (and ``version``)."""
        check_page_size(limit)
        subject = None
        if dataset is not None:
            subject = DataService(self.ctx).version(project, dataset, version or "latest").ref
        elif version is not None:
            raise InvalidInput("version needs dataset: name the dataset whose version's reports to list")
        with self.store.read() as session:
            query = (
                select(ReportRow)
                .where(ReportRow.project_id == find_project(session, project).id)
                .order_by(ReportRow.id.desc())
                .limit(limit + 1)
            )
            if subject is not None:
                query = query.where(ReportRow.subject == subject)
            if page_token:
                query = query.where(ReportRow.id < token_position(page_token, "before", str))
            rows = list(session.execute(query).scalars())
        items = [_summary(r, project) for r in rows[:limit]]
        token = encode_token({"before": items[-1].id}) if len(rows) > limit else None
        return Page[ReportSummary](items=items, next_token=token)

    @operation("GET", _BASE + "/reports/{report_id}", action=Action.READ, project=project_from("project"))
    def report(self, project: str, report_id: str) -> ValidationReport:
        """One stored report (by id or unique id prefix) with every check and anomaly."""
        with self.store.read() as session:
            project_id = find_project(session, project).id
            try:
                full = find_id(
                    session, ReportRow.id, report_id, "report", where=[ReportRow.project_id == project_id]
                )
            except NotFound:
                full = None
            row = session.get(ReportRow, full) if full is not None else None
            if row is None:
                raise NotFound(f"no validation report {report_id} in project {project!r}")
            digest = row.report_digest
        # The stored text leaves out its own digest (it cannot hold it); the row supplies it.
        stored = json.loads(self.ctx.artifacts.read_bytes(digest))
        return ValidationReport.model_validate({**stored, "report_digest": digest})

    def _table(self, version: DatasetVersion) -> pa.Table:
        return read_table(self.ctx, version)

    def _reference(self, project: str, suite: Suite) -> pa.Table | None:
        """The suite's reference table when a column asks for a distribution test, else None."""
        if not suite.reference or not any(c.distribution for c in suite.columns.values()):
            return None
        from keel.datasets.address_syntax import split_address

        address = split_address(suite.reference)
        found = DataService(self.ctx).version(address.project or project, address.name, address.selector)
        if suite.reference_digest and found.digest != suite.reference_digest:
            raise InvalidInput(
                f"the suite's reference {suite.reference} now has other content "
                f"({found.digest[:12]}..., the suite was inferred from {suite.reference_digest[:12]}...)",
                hint="point reference: at the version the suite was inferred from (name@vN)",
            )
        return self._table(found)


def _checked(
    project: str,
    subject: str,
    address: str,
    table: pa.Table,
    suite: Suite,
    reference: pa.Table | None,
    run: str | None = None,
) -> ValidationReport:
    """Run the suite over ``table``: the report, with its digest still to be filled."""
    from keel.validation.check import run_suite

    results, anomalies = run_suite(table, suite, reference)
    failed = sum(1 for r in results if r.verdict == "fail")
    return ValidationReport(
        id=new_id(),
        project=project,
        subject=subject,
        address=address,
        suite=suite.name,
        suite_digest=suite.digest(),
        passed=failed == 0,
        checks=len(results),
        failed=failed,
        run=run,
        report_digest="0" * 64,
        author=current_caller().name,
        created_at=utcnow(),
        rows=table.num_rows,
        results=results,
        anomalies=anomalies,
    )


def _summary(row: ReportRow, project: str) -> ReportSummary:
    return ReportSummary(
        id=row.id,
        project=project,
        subject=row.subject,
        address=row.address,
        suite=row.suite,
        suite_digest=row.suite_digest,
        passed=row.passed,
        checks=row.checks,
        failed=row.failed,
        run=row.run_id,
        report_digest=row.report_digest,
        author=row.author,
        created_at=row.created_at,
    )
