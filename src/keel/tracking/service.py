"""Run operations: create, log a batch, end, read back, search, delete, lineage.

Operations addressed by run id declare ``Action.AUTHENTICATED`` and check the
real action against the run's project id once the run is loaded (the project is
not among their inputs), through :class:`keel.tracking.guard.RunGuard`: a run the
caller may not see answers like an unknown one and never names its project.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from keel.core.errors import InvalidInput
from keel.core.ids import new_id
from keel.core.kpi import KPI, evaluate_kpis
from keel.core.operations import GLOBAL, Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page
from keel.core.refs import parse_ref
from keel.core.timeutil import as_utc, utcnow
from keel.lineage import Edge, add_edges, downstream, upstream
from keel.projects.models import ProjectRow
from keel.projects.service import find_project
from keel.tracking.artifact_ops import RunArtifactOps
from keel.tracking.models import RunRow
from keel.tracking.read import final_metrics, find_run, history, project_totals, to_run
from keel.tracking.schemas import (
    BatchResult,
    CostSummary,
    MetricPoint,
    PointTuple,
    Run,
    RunStatus,
    RunSummary,
    SeriesColumns,
)
from keel.tracking.search import search_runs
from keel.tracking.values import ParamValue, check_key, json_safe
from keel.tracking.write import check_running, claim_batch, store_params, store_points, store_tags


class RunLineage(BaseModel):
    """What a run used (upstream) and what came from it (downstream)."""

    run: str
    upstream: list[Edge]
    downstream: list[Edge]


def _digest_or_ref(text: str) -> str:
    text = text.strip()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return f"artifact:{text}"
    return str(parse_ref(text))


class RunService(RunArtifactOps):
    """Experimentation: runs with params, metrics, tags, artifacts, lineage, KPIs and cost."""

    name = "runs"

    @operation("POST", "/api/v1/runs", action=Action.WRITE, project=project_from("project"), status_code=201)
    def create(
        self,
        project: str,
        name: str | None = None,
        params: dict[str, ParamValue] | None = None,
        tags: dict[str, str] | None = None,
        parent_id: str | None = None,
        environment: dict[str, Any] | None = None,
        hourly_price: float | None = None,
        start_time: datetime | None = None,
    ) -> Run:
        """Start a run in a project, with its params, tags and captured environment."""
        if name is not None:
            check_key(name, "run name")
        if hourly_price is not None and not hourly_price >= 0:
            raise InvalidInput(f"hourly_price must be a number >= 0, got {hourly_price}")
        run_id = new_id()
        with self.store.write() as session:
            project_row = find_project(session, project)
            if parent_id is not None:
                parent = find_run(session, parent_id)
                if parent.project_id != project_row.id:
                    self._authorize(parent, Action.READ)  # a hidden parent is an unknown one
                    raise InvalidInput(f"parent run {parent_id} belongs to another project")
            row = RunRow(
                id=run_id,
                project_id=project_row.id,
                project_name=project_row.name,
                name=name or f"run-{run_id[-6:].lower()}",
                status="RUNNING",
                parent_id=parent_id,
                user=current_caller().name,
                start_time=as_utc(start_time) if start_time else utcnow(),
                end_time=None,
                duration=None,
                hourly_price=hourly_price,
                cost=None,
                energy_kwh=None,
                kpi_report=None,
                kpi_passed=None,
                environment=dict(environment or {}),
                deleted=False,
            )
            session.add(row)
            session.flush()
            store_params(session, self.store, run_id, params or {})
            store_tags(session, run_id, tags or {})
            if parent_id is not None:
                add_edges(session, [(f"run:{run_id}", "child_of", f"run:{parent_id}")])
            return to_run(session, row)

    @operation("POST", "/api/v1/runs/{run_id}/batch", action=Action.AUTHENTICATED, project=GLOBAL)
    def log_batch(
        self,
        run_id: str,
        metrics: list[PointTuple] | None = None,
        params: dict[str, ParamValue] | None = None,
        tags: dict[str, str] | None = None,
        client_id: str | None = None,
        seq: int | None = None,
        series: dict[str, SeriesColumns] | None = None,
    ) -> BatchResult:
        """Store metric points (key, value, step, Unix ms), params and tags in one transaction.

        ``series`` gives points by key as columns ([steps], [Unix ms], [values]).
        With ``client_id`` and ``seq`` a batch sent twice is stored once.
        """
        if (client_id is None) != (seq is None):
            raise InvalidInput("client_id and seq go together: give both or neither")
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            check_running(row)
            if client_id is not None and seq is not None and not claim_batch(session, run_id, client_id, seq):
                return BatchResult(metrics=0, params=0, tags=0, duplicate=True)
            n_params = store_params(session, self.store, run_id, params or {})
            n_tags = store_tags(session, run_id, tags or {})
            n_points = store_points(session, self.store, run_id, metrics or [], series)
        return BatchResult(metrics=n_points, params=n_params, tags=n_tags)

    @operation("POST", "/api/v1/runs/{run_id}/end", action=Action.AUTHENTICATED, project=GLOBAL)
    def end(
        self,
        run_id: str,
        status: RunStatus = "FINISHED",
        energy_kwh: float | None = None,
        end_time: datetime | None = None,
    ) -> Run:
        """End a run: duration, cost (duration x hourly price), GPU energy, and the KPI report."""
        if status == "RUNNING":
            raise InvalidInput("status to end a run with must be FINISHED, FAILED or KILLED")
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            check_running(row)
            end = as_utc(end_time) if end_time else utcnow()
            row.status = status
            row.end_time = end
            row.duration = max((end - row.start_time).total_seconds(), 0.0)
            if row.hourly_price is not None:
                row.cost = row.duration / 3600.0 * row.hourly_price
            if energy_kwh is not None:
                row.energy_kwh = energy_kwh
            kpis = [KPI.model_validate(k) for k in find_project(session, row.project_name).kpis]
            if any(k.stage == "offline" for k in kpis):
                report = evaluate_kpis(kpis, final_metrics(session, run_id), stage="offline")
                row.kpi_report = json_safe(report.model_dump(mode="json"))
                row.kpi_passed = report.passed
            return to_run(session, row)

    @operation("POST", "/api/v1/runs/{run_id}/resume", action=Action.AUTHENTICATED, project=GLOBAL)
    def resume(self, run_id: str) -> Run:
        """Reopen an ended run so it takes logging again (``start_run(run_id=...)``)."""
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            if row.deleted:
                raise InvalidInput(f"run {run_id} is deleted; restore it first")
            row.status = "RUNNING"
            row.end_time = None
            return to_run(session, row)

    @operation("GET", "/api/v1/runs/{run_id}", action=Action.AUTHENTICATED, project=GLOBAL)
    def get(self, run_id: str) -> Run:
        """One run: attributes, params, tags, final metrics, KPI report, cost, environment, artifacts."""
        with self.store.read() as session:
            row = self._run(session, run_id, Action.READ)
            return to_run(session, row)

    @operation("GET", "/api/v1/runs/{run_id}/history", action=Action.AUTHENTICATED, project=GLOBAL)
    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of one metric of a run, by step."""
        check_key(key, "metric key")
        with self.store.read() as session:
            self._run(session, run_id, Action.READ)
            return history(session, run_id, key)

    @operation("POST", "/api/v1/runs/search", action=Action.READ, project=project_from("project"))
    def search(
        self,
        project: str,
        filter: str | None = None,
        order_by: list[str] | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> Page[RunSummary]:
        """Runs of a project matching a filter (``metrics.auc > 0.9 and params.depth = 6``), ordered, a page at a time."""
        with self.store.read() as session:
            project_id = find_project(session, project).id
            items, token = search_runs(
                session, project_id, filter, order_by, limit, page_token, include_deleted
            )
        return Page[RunSummary](items=items, next_token=token)

    @operation("DELETE", "/api/v1/runs/{run_id}", action=Action.AUTHENTICATED, project=GLOBAL)
    def delete(self, run_id: str) -> Run:
        """Hide a run from searches (it stays restorable, and its artifacts stay referenced)."""
        return self._set_deleted(run_id, True)

    @operation("POST", "/api/v1/runs/{run_id}/restore", action=Action.AUTHENTICATED, project=GLOBAL)
    def restore(self, run_id: str) -> Run:
        """Bring a deleted run back."""
        return self._set_deleted(run_id, False)

    def _set_deleted(self, run_id: str, deleted: bool) -> Run:
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            row.deleted = deleted
            action = "run.delete" if deleted else "run.restore"
            self.ctx.audit(session, action, f"run:{run_id}", project_id=row.project_id)
            return to_run(session, row)

    @operation("POST", "/api/v1/runs/{run_id}/inputs", action=Action.AUTHENTICATED, project=GLOBAL)
    def use(self, run_id: str, refs: list[str], relation: str = "used") -> list[Edge]:
        """Record what a run used: a dataset address (``name@v2``), any reference, or an artifact digest.

        Addresses resolve in the run's project (``other/name@golden`` names another
        one, which the caller must be able to read) and are stored as
        ``dataset_version:<id>``; a bare 64-hex digest becomes ``artifact:<digest>``.
        """
        check_key(relation, "relation")
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            targets = [self._input_ref(session, row, r) for r in refs]
            edges = [(f"run:{run_id}", relation, t) for t in targets]
            add_edges(session, edges)
        return [Edge(src=s, relation=r, dst=d) for s, r, d in edges]

    def _input_ref(self, session: Session, run: RunRow, text: str) -> str:
        """A run input as a reference; a dataset address resolves to its version, in the run's project
        unless it names another one (which the caller must be able to read)."""
        text = text.strip()
        if "@" not in text or ":" in text:
            return _digest_or_ref(text)
        from keel.datasets.lookup import find_dataset, find_version
        from keel.datasets.refs import split_address

        address = split_address(text)
        project = address.project or session.get(ProjectRow, run.project_id).name  # type: ignore[union-attr]
        dataset = find_dataset(session, project, address.name)
        if dataset.project_id != run.project_id:
            self.ctx.authorize_in_project(
                dataset.project_id, Action.READ, f"dataset {project}/{address.name}"
            )
        return f"dataset_version:{find_version(session, dataset, address.selector).id}"

    @operation("GET", "/api/v1/runs/{run_id}/lineage", action=Action.AUTHENTICATED, project=GLOBAL)
    def lineage(self, run_id: str) -> RunLineage:
        """What the run used, transitively, and what was made from it."""
        with self.store.read() as session:
            self._run(session, run_id, Action.READ)
            ref = f"run:{run_id}"
            return RunLineage(run=ref, upstream=upstream(session, ref), downstream=downstream(session, ref))

    @operation(
        "GET", "/api/v1/projects/{project}/runs/cost", action=Action.READ, project=project_from("project")
    )
    def cost(self, project: str) -> CostSummary:
        """Cost, GPU energy and duration of a project's runs, summed."""
        with self.store.read() as session:
            project_id = find_project(session, project).id
            runs, cost, energy, duration = project_totals(session, project_id)
        return CostSummary(project=project, runs=runs, cost=cost, energy_kwh=energy, duration=duration)
