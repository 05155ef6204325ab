"""Monitoring operations: monitors over a reference version, evaluations of windows and batches, reports.

A monitor's reference statistics are computed once, when it is created, from
the reference version's Parquet columns, and stored in the artifact store;
every check loads them (kept in memory by digest) and compares whole
columns. An evaluation's full report is a JSON object in the artifact store
(``monitor_evaluation:<id>``) with a row holding its verdict and figures,
which alert rules read (:mod:`keel.monitoring.alerting`). Alert rules and
events are operations of this service too (:class:`AlertOperations`).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field
from sqlalchemy import select

from keel.artifacts.references import add_refs
from keel.core.constraints import DatasetAddress, Limit, PageToken
from keel.core.errors import AlreadyExists, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, ByteStream, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.datasets.address_syntax import split_address
from keel.datasets.service import DataService
from keel.lineage import add_edges
from keel.monitoring.alerting import AlertOperations, events_of_evaluation, run_rules
from keel.monitoring.evaluate import (
    build_monitor_reference,
    from_batch,
    from_prediction_log,
)
from keel.monitoring.models import EvaluationRow, MonitorRow
from keel.monitoring.record import judge_and_store, remember
from keel.monitoring.schemas import (
    Correction,
    EvaluationSummary,
    FeatureKindName,
    InfraFigures,
    Monitor,
    MonitorName,
    MonitorReport,
)
from keel.monitoring.window import parse_duration
from keel.projects.service import find_project
from keel.stats.drift import check_tests
from keel.stats.drift_reference import default_kind, encode_reference

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.orm import Session

    from keel.datasets.schemas import DatasetVersion

BASE = "/api/v1/projects/{project}/monitors"
_ONE = BASE + "/{name}"


def monitor_schema(row: MonitorRow, project: str) -> Monitor:
    s = row.settings
    return Monitor(
        id=row.id,
        project=project,
        name=row.name,
        reference=row.reference,
        reference_address=row.reference_address,
        reference_digest=row.reference_digest,
        deployment=row.deployment,
        features=s["features"],
        kinds=s["kinds"],
        prediction=s.get("prediction"),
        label=s.get("label"),
        alpha=s["alpha"],
        correction=s["correction"],
        tests=s["tests"],
        window_s=s["window_s"],
        latency_target_ms=s.get("latency_target_ms"),
        multivariate=bool(s.get("sample_digest")),
        created_by=row.created_by,
        created_at=row.created_at,
    )


def find_monitor(session: Session, project: str, name: str) -> MonitorRow:
    """The monitor row ``name`` of ``project``; NotFound naming both otherwise."""
    project_id = find_project(session, project).id
    row = session.execute(
        select(MonitorRow).where(MonitorRow.project_id == project_id, MonitorRow.name == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no monitor {name!r} in project {project!r}", hint="`keel monitor ls` lists them")
    return row


def summary_of(row: EvaluationRow, project: str, monitor: str) -> EvaluationSummary:
    return EvaluationSummary(
        id=row.id,
        project=project,
        monitor=monitor,
        source=row.source,
        window_start=row.window_start,
        window_end=row.window_end,
        rows=row.rows,
        drifted=row.drifted,
        drift_share=row.drift_share,
        figures=row.figures,
        report_digest=row.report_digest,
        created_by=row.created_by,
        created_at=row.created_at,
    )


class MonitorService(AlertOperations):
    """Production monitoring: drift of inputs, predictions and labels, live KPIs, serving health, alerts."""

    name = "monitors"

    @operation("POST", BASE, action=Action.WRITE, project=project_from("project"), status_code=201)
    def create(
        self,
        project: str,
        name: MonitorName,
        reference: DatasetAddress,
        deployment: str | None = None,
        features: list[str] | None = None,
        label: str | None = None,
        prediction: str | None = None,
        kinds: dict[str, FeatureKindName] | None = None,
        alpha: Annotated[float, Field(gt=0, lt=1)] = 0.05,
        correction: Correction = "holm",
        tests: dict[str, list[str]] | None = None,
        window: str = "1h",
        latency_target_ms: Annotated[float, Field(gt=0)] | None = None,
        multivariate: bool = False,
    ) -> Monitor:
        """Create a monitor: compute the reference version's statistics once and store them with it.

        ``reference`` is a table version address (``churn-train@v3``).
        ``features`` defaults to the deployment's model inputs, else every
        numeric or categorical column but ``label`` and ``prediction``.
        ``tests`` lists drift tests per kind (``{"numeric": ["ks", "psi"]}``;
        the first decides). ``multivariate`` adds a domain classifier over a
        stored row sample of the reference (seconds per check). Raises
        InvalidInput for a feature the reference
        lacks or the deployed model does not take, NotFound for an unknown
        version or deployment, AlreadyExists for a taken name.
        """
        address = split_address(reference)
        if address.project not in (None, project):
            raise InvalidInput(f"reference {reference!r} is in project {address.project!r}, not {project!r}")
        version = DataService(self.ctx).version(project, address.name, address.selector)
        table = self._table(version)
        model_inputs = self._model_inputs(project, deployment) if deployment else None
        targets = {c for c in (label, prediction) if c}
        if features is None:
            pool = model_inputs or table.column_names
            features = [
                c
                for c in pool
                if c in table.column_names and c not in targets and default_kind(table.schema.field(c).type)
            ]
        if not features:
            raise InvalidInput("no features to monitor: name them with features=[...]")
        if len(set(features)) != len(features):
            raise InvalidInput("features: a feature is named twice")
        if model_inputs is not None:
            foreign = [f for f in features if f not in model_inputs]
            if foreign:
                raise InvalidInput(
                    f"features {', '.join(foreign)} are not inputs of the model {deployment!r} serves "
                    f"(it takes {', '.join(model_inputs)})"
                )
        overlap = targets & set(features)
        if overlap:
            raise InvalidInput(
                f"{', '.join(sorted(overlap))} cannot be both a feature and the label/prediction"
            )
        unknown_kinds = [k for k in (kinds or {}) if k not in features]
        if unknown_kinds:
            raise InvalidInput(f"kinds: {', '.join(unknown_kinds)} are not monitored features")
        per_kind = check_tests(tests or {})
        window_s = parse_duration(window)
        refs = build_monitor_reference(table, features, kinds or {}, prediction, label)
        resolved_kinds = {f: refs[f].kind for f in features}
        blob = encode_reference(refs)
        digest = self.ctx.artifacts.put_bytes(blob)
        sample_digest = self._store_sample(table, features) if multivariate else None
        self.ctx.artifacts.sync()
        remember(digest, refs)
        now = utcnow()
        settings: dict[str, Any] = {
            "project": project,
            "features": features,
            "kinds": resolved_kinds,
            "prediction": prediction,
            "label": label,
            "alpha": alpha,
            "correction": correction,
            "tests": {k: list(v) for k, v in per_kind.items()},
            "window_s": window_s,
            "latency_target_ms": latency_target_ms,
            "sample_digest": sample_digest,
        }
        with self.store.write() as session:
            project_id = find_project(session, project).id
            taken = session.execute(
                select(MonitorRow.id).where(MonitorRow.project_id == project_id, MonitorRow.name == name)
            ).first()
            if taken is not None:
                raise AlreadyExists(f"project {project!r} already has a monitor {name!r}")
            row = MonitorRow(
                id=new_id(),
                project_id=project_id,
                name=name,
                reference=version.ref,
                reference_address=version.address,
                reference_digest=digest,
                deployment=deployment,
                settings=settings,
                created_by=current_caller().name,
                created_at=now,
            )
            session.add(row)
            session.flush()
            owned = [(d, f"monitor:{row.id}") for d in (digest, sample_digest) if d]
            add_refs(session, owned, project_id=project_id)
            add_edges(session, [(f"monitor:{row.id}", "uses", version.ref)])
            return monitor_schema(row, project)

    @operation("GET", BASE, action=Action.READ, project=project_from("project"))
    def ls(self, project: str) -> list[Monitor]:
        """The project's monitors by name."""
        with self.store.read() as session:
            project_id = find_project(session, project).id
            rows = session.execute(
                select(MonitorRow).where(MonitorRow.project_id == project_id).order_by(MonitorRow.name)
            ).scalars()
            return [monitor_schema(r, project) for r in rows]

    @operation("GET", _ONE, action=Action.READ, project=project_from("project"))
    def get(self, project: str, name: str) -> Monitor:
        """One monitor: its reference, features with their kinds, tests, alpha and window."""
        with self.store.read() as session:
            return monitor_schema(find_monitor(session, project, name), project)

    @operation("POST", _ONE + "/rebase", action=Action.WRITE, project=project_from("project"))
    def rebase(self, project: str, name: str, reference: DatasetAddress) -> Monitor:
        """Take a new reference version (the data the newly deployed model learned from): statistics computed once.

        The features, kinds, label and prediction columns stay; the new
        version must have them. Earlier reports keep the reference they were
        judged against. Raises InvalidInput when the version lacks a column.
        """
        address = split_address(reference)
        if address.project not in (None, project):
            raise InvalidInput(f"reference {reference!r} is in project {address.project!r}, not {project!r}")
        monitor = self.get(project, name)
        version = DataService(self.ctx).version(project, address.name, address.selector)
        kinds: dict[str, Any] = dict(monitor.kinds)
        table = self._table(version)
        refs = build_monitor_reference(table, monitor.features, kinds, monitor.prediction, monitor.label)
        digest = self.ctx.artifacts.put_bytes(encode_reference(refs))
        sample_digest = self._store_sample(table, monitor.features) if monitor.multivariate else None
        self.ctx.artifacts.sync()
        remember(digest, refs)
        with self.store.write() as session:
            row = find_monitor(session, project, name)
            row.reference, row.reference_address, row.reference_digest = version.ref, version.address, digest
            row.settings = {**row.settings, "sample_digest": sample_digest}
            owned = [(d, f"monitor:{row.id}") for d in (digest, sample_digest) if d]
            add_refs(session, owned, project_id=row.project_id)
            add_edges(session, [(f"monitor:{row.id}", "uses", version.ref)])
            return monitor_schema(row, project)

    @operation("DELETE", _ONE, action=Action.ADMIN, project=project_from("project"))
    def delete(self, project: str, name: str) -> Monitor:
        """Remove a monitor with its rules (admin); its evaluations and alerts stay readable by id."""
        from keel.monitoring.models import AlertRuleRow

        with self.store.write() as session:
            row = find_monitor(session, project, name)
            found = monitor_schema(row, project)
            for rule in session.execute(
                select(AlertRuleRow).where(AlertRuleRow.monitor_id == row.id)
            ).scalars():
                session.delete(rule)
            session.delete(row)
            return found

    @operation("POST", _ONE + "/check", action=Action.WRITE, project=project_from("project"), status_code=201)
    def check(self, project: str, name: str, data: ByteStream) -> MonitorReport:
        """Judge a batch of rows (a Parquet file as the body) against the reference; store the report.

        The batch holds the monitored features, and optionally the model's
        answers (column ``prediction``, or the monitor's prediction column)
        and labels (the monitor's label column). Drift is a normal answer
        (``drifted``), not an error. Raises InvalidInput for a body that is
        not Parquet, an empty batch, or a missing feature.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        monitor = self.get(project, name)
        try:
            batch = pq.read_table(pa.BufferReader(data.read_all()))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InvalidInput(f"the batch is not a Parquet file: {exc}") from None
        return self._evaluate(project, monitor, from_batch(batch, monitor), "batch")

    @operation(
        "POST", _ONE + "/check-version", action=Action.WRITE, project=project_from("project"), status_code=201
    )
    def check_version(self, project: str, name: str, dataset: str, version: str = "latest") -> MonitorReport:
        """Judge a table version of the project (a day's data, say) against the reference; store the report."""
        monitor = self.get(project, name)
        found = DataService(self.ctx).version(project, dataset, version)
        return self._evaluate(project, monitor, from_batch(self._table(found), monitor), found.ref)

    @operation("POST", _ONE + "/run", action=Action.WRITE, project=project_from("project"), status_code=201)
    def run(
        self, project: str, name: str, since: datetime | None = None, until: datetime | None = None
    ) -> MonitorReport:
        """Evaluate a window of the deployment's prediction log (default: the monitor's last window).

        Windows can be re-evaluated later: the log keeps every row. Drift
        of inputs and of predictions, label drift and live KPIs once labels
        arrived, and serving latency and throughput. Raises InvalidInput for
        a monitor without a deployment or a window with no rows.
        """
        from keel.monitoring.infra import infra_figures
        from keel.predictions.owner import check_in_project
        from keel.predictions.query import window

        monitor = self.get(project, name)
        if monitor.deployment is None:
            raise InvalidInput(
                f"monitor {name!r} watches no deployment; check batches with `keel monitor check`"
            )
        until = until or utcnow()
        since = since or until - timedelta(seconds=monitor.window_s)
        if since >= until:
            raise InvalidInput(
                f"the window starts ({since.isoformat()}) at or after its end ({until.isoformat()})"
            )
        check_in_project(self.ctx, project, monitor.deployment)
        logged = window(self.ctx, monitor.deployment, since, until)
        if logged.num_rows == 0:
            raise InvalidInput(
                f"the window {since.isoformat()} to {until.isoformat()} of {monitor.deployment!r} has no predictions"
            )
        infra = infra_figures(
            logged,
            since,
            until,
            latency_target_ms=monitor.latency_target_ms,
            replicas=self._replicas(project, monitor),
        )
        batch = from_prediction_log(logged, monitor)
        return self._evaluate(project, monitor, batch, "window", since=since, until=until, infra=infra)

    @operation("GET", _ONE + "/infra", action=Action.READ, project=project_from("project"))
    def infra(
        self, project: str, name: str, since: datetime | None = None, until: datetime | None = None
    ) -> InfraFigures:
        """Serving health of the monitor's deployment over a window: latency percentiles, throughput, versions."""
        from keel.monitoring.infra import infra_figures
        from keel.predictions.owner import check_in_project
        from keel.predictions.query import window

        monitor = self.get(project, name)
        if monitor.deployment is None:
            raise InvalidInput(f"monitor {name!r} watches no deployment")
        until = until or utcnow()
        since = since or until - timedelta(seconds=monitor.window_s)
        if since >= until:
            raise InvalidInput(
                f"the window starts ({since.isoformat()}) at or after its end ({until.isoformat()})"
            )
        check_in_project(self.ctx, project, monitor.deployment)
        logged = window(self.ctx, monitor.deployment, since, until)
        return infra_figures(
            logged,
            since,
            until,
            latency_target_ms=monitor.latency_target_ms,
            replicas=self._replicas(project, monitor),
        )

    @operation(
        "GET",
        "/api/v1/projects/{project}/monitor-metrics",
        action=Action.READ,
        project=project_from("project"),
    )
    def metrics(self, project: str) -> ByteStream:
        """The latest figures of every monitor of the project in Prometheus' text format, for a scraper.

        One gauge, ``keel_monitor_figure{project, monitor, figure}``, per figure of each monitor's
        newest evaluation, and ``keel_monitor_evaluated_timestamp_seconds`` saying when that was.
        """
        lines = [
            "# HELP keel_monitor_figure A figure of a monitor's newest evaluation (drift.share, kpi.accuracy, ...).",
            "# TYPE keel_monitor_figure gauge",
            "# HELP keel_monitor_evaluated_timestamp_seconds When the monitor's newest evaluation was made.",
            "# TYPE keel_monitor_evaluated_timestamp_seconds gauge",
        ]
        with self.store.read() as session:
            project_id = find_project(session, project).id
            monitors = session.execute(
                select(MonitorRow.id, MonitorRow.name)
                .where(MonitorRow.project_id == project_id)
                .order_by(MonitorRow.name)
            ).all()
            for monitor_id, name in monitors:
                latest = session.execute(
                    select(EvaluationRow)
                    .where(EvaluationRow.monitor_id == monitor_id)
                    .order_by(EvaluationRow.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
                if latest is None:
                    continue
                where = f'project="{_label(project)}",monitor="{_label(name)}"'
                lines.append(
                    f"keel_monitor_evaluated_timestamp_seconds{{{where}}} {latest.created_at.timestamp():.3f}"
                )
                for figure, value in sorted(latest.figures.items()):
                    lines.append(f'keel_monitor_figure{{{where},figure="{_label(figure)}"}} {float(value)!r}')
        body = ("\n".join(lines) + "\n").encode()
        return ByteStream([body], media_type="text/plain; version=0.0.4; charset=utf-8", size=len(body))

    @operation("GET", _ONE + "/evaluations", action=Action.READ, project=project_from("project"))
    def evaluations(
        self, project: str, name: str, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None
    ) -> Page[EvaluationSummary]:
        """A monitor's evaluations, newest first, with their verdicts and figures."""
        check_page_size(limit)
        with self.store.read() as session:
            monitor = find_monitor(session, project, name)
            query = (
                select(EvaluationRow)
                .where(EvaluationRow.monitor_id == monitor.id)
                .order_by(EvaluationRow.id.desc())
                .limit(limit + 1)
            )
            if page_token:
                query = query.where(EvaluationRow.id < token_position(page_token, "before", str))
            rows = list(session.execute(query).scalars())
        items = [summary_of(r, project, name) for r in rows[:limit]]
        token = encode_token({"before": items[-1].id}) if len(rows) > limit else None
        return Page[EvaluationSummary](items=items, next_token=token)

    @operation("GET", _ONE + "/evaluations/{evaluation}", action=Action.READ, project=project_from("project"))
    def report(self, project: str, name: str, evaluation: str = "latest") -> MonitorReport:
        """One stored report (``latest``: the newest) with every feature's tests and histograms."""
        with self.store.read() as session:
            monitor = find_monitor(session, project, name)
            if evaluation == "latest":
                row = session.execute(
                    select(EvaluationRow)
                    .where(EvaluationRow.monitor_id == monitor.id)
                    .order_by(EvaluationRow.id.desc())
                    .limit(1)
                ).scalar_one_or_none()
            else:
                row = session.get(EvaluationRow, evaluation)
            if row is None or row.monitor_id != monitor.id:
                what = "no evaluations yet" if evaluation == "latest" else f"no evaluation {evaluation}"
                raise NotFound(f"monitor {name!r} of project {project!r} has {what}")
            digest = row.report_digest
            alerts = events_of_evaluation(session, row.id, project, name)
        stored = json.loads(self.ctx.artifacts.read_bytes(digest))
        return MonitorReport.model_validate({**stored, "report_digest": digest, "alerts": alerts})

    @operation(
        "GET", _ONE + "/evaluations/{evaluation}/html", action=Action.READ, project=project_from("project")
    )
    def report_html(self, project: str, name: str, evaluation: str = "latest") -> ByteStream:
        """The stored report as one self-contained HTML page (per-feature histograms, no scripts)."""
        from keel.monitoring.html import render_html

        body = render_html(self.report(project, name, evaluation)).encode()
        return ByteStream([body], media_type="text/html; charset=utf-8", size=len(body))

    # -- internals -------------------------------------------------------------------------------

    def _evaluate(
        self,
        project: str,
        monitor: Monitor,
        batch: pa.Table,
        source: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        infra: InfraFigures | None = None,
    ) -> MonitorReport:
        report = judge_and_store(
            self.ctx, project, monitor, batch, source, since=since, until=until, infra=infra
        )
        report.alerts = run_rules(self, project, monitor, report)
        return report

    def _table(self, version: DatasetVersion) -> pa.Table:
        """A table version's rows, read from its Parquet parts."""
        if version.kind != "table":
            raise InvalidInput(f"{version.address} is a folder of files; a monitor needs a table")
        import pyarrow as pa
        import pyarrow.parquet as pq

        parts = []
        for digest in version.table_parts:
            with self.ctx.artifacts.open(digest) as handle:
                parts.append(pq.read_table(handle))
        if not parts:
            raise InvalidInput(f"{version.address} has no rows")
        return pa.concat_tables(parts) if len(parts) > 1 else parts[0]

    def _store_sample(self, table: pa.Table, features: list[str]) -> str:
        """A uniform sample of the reference's rows (features only) for the domain classifier, as Parquet."""
        import io

        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        from keel.monitoring.record import SAMPLE_ROWS

        picked = table.select(features)
        if picked.num_rows > SAMPLE_ROWS:
            rows = np.sort(np.random.default_rng(0).choice(picked.num_rows, SAMPLE_ROWS, replace=False))
            picked = picked.take(pa.array(rows))
        sink = io.BytesIO()
        pq.write_table(picked, sink)
        return self.ctx.artifacts.put_bytes(sink.getvalue())

    def _model_inputs(self, project: str, deployment: str) -> list[str] | None:
        """The input columns of the model version the deployment serves now (None when it declares none)."""
        from keel.registry.deployments import locate

        found, held = locate(self.ctx, deployment)
        if found.project != project:
            raise NotFound(f"no deployment named {deployment!r} in project {project!r}")
        version = held.get("target")
        if version is None:
            return None
        signature = (version.manifest or {}).get("signature") or {}
        columns = (signature.get("inputs") or {}).get("columns")
        return [c["name"] for c in columns] if columns else None

    def _replicas(self, project: str, monitor: Monitor) -> int | None:
        from keel.registry.deployments import DeploymentService

        assert monitor.deployment is not None
        settings = DeploymentService(self.ctx).get(project, monitor.deployment).settings
        value = settings.get("replicas")
        return int(value) if isinstance(value, int) else None


def _label(value: str) -> str:
    """A Prometheus label value: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
