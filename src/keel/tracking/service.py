"""Run operations: create, log a batch, end, read back, search, delete, cost.

Operations addressed by run id declare ``Action.AUTHENTICATED`` and check the
real action against the run's project id once the run is loaded (the project is
not among their inputs), through :class:`keel.tracking.guard.RunGuard`: a run the
caller may not see answers like an unknown one and never names its project.
Reading a run or searching a project first marks KILLED the runs whose
process stopped sending heartbeats (:mod:`keel.tracking.liveness`). A
project's KPIs come from the projects capability's own lookup, in the same
session; tracking never reads the projects table itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, get_args

from sqlalchemy.orm import Session

from keel.core.constraints import (
    POINT_KEYS,
    TAGS,
    ArtifactPath,
    Digest,
    EndStatus,
    EnergyKwh,
    HourlyPrice,
    IdOrPrefix,
    Limit,
    MetricKey,
    PageToken,
    ParamKey,
    RunName,
    Since1970,
    TagKey,
    TagValue,
)
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.kpi import KPI, evaluate_kpis
from keel.core.operations import GLOBAL, Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page
from keel.core.timeutil import as_utc, utcnow
from keel.lineage import add_edges
from keel.projects.idprefix import ID_LENGTH
from keel.projects.service import find_project
from keel.tracking.artifact_ops import RunArtifactOps, clean_path, register_artifact
from keel.tracking.filter import Limits
from keel.tracking.lineage_ops import RunLineage, RunLineageOps
from keel.tracking.liveness import (
    alive_after_all,
    beat,
    clear_reason,
    killed_for_silence,
    mark_killed,
    revive,
    stale_ids,
)
from keel.tracking.models import RunRow
from keel.tracking.read import final_metrics, find_run, history, is_run_id, project_totals, to_record
from keel.tracking.schemas import (
    BatchResult,
    ClientId,
    CostSummary,
    MetricPoint,
    PointTuple,
    RunRecord,
    RunSummary,
    SeriesColumns,
)
from keel.tracking.search import search_runs
from keel.tracking.series_ops import RunSeriesOps
from keel.tracking.values import (
    MAX_ENERGY_KWH,
    MAX_HOURLY_PRICE,
    Int64,
    ParamValue,
    check_amount,
    check_key,
    json_safe,
)
from keel.tracking.write import (
    check_batch_size,
    check_can_log,
    claim_batch,
    store_params,
    store_points,
    store_tags,
)

__all__ = ["RunLineage", "RunService"]

#: How far ahead of the server's clock a client may date a run's start or end.
_CLOCK_SKEW = timedelta(days=1)


def _check_time(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    value = as_utc(value)
    if value > utcnow() + _CLOCK_SKEW:
        raise InvalidInput(f"{what} {value.isoformat()} is in the future")
    if value.year < 1970:
        raise InvalidInput(f"{what} {value.isoformat()} is before 1970")
    return value


def _latest_ms(
    metrics: Sequence[tuple[str, float, int, int]], series: Mapping[str, SeriesColumns] | None
) -> int | None:
    stamps = [p[3] for p in metrics]
    stamps += [max(cols[1]) for cols in (series or {}).values() if cols[1]]
    return max(stamps) if stamps else None


class RunService(RunLineageOps, RunArtifactOps, RunSeriesOps):
    """Experimentation: runs with params, metrics, tags, artifacts, lineage, KPIs and cost."""

    name = "runs"

    @operation("POST", "/api/v1/runs", action=Action.WRITE, project=project_from("project"), status_code=201)
    def create(
        self,
        project: str,
        name: RunName | None = None,
        params: dict[ParamKey, ParamValue] | None = None,
        tags: Annotated[dict[TagKey, TagValue], TAGS] | None = None,
        parent_id: str | None = None,
        environment: dict[str, Any] | None = None,
        hourly_price: HourlyPrice | None = None,
        start_time: Since1970 | None = None,
        artifacts: dict[ArtifactPath, Digest] | None = None,
    ) -> RunRecord:
        """Start a run in a project, with its params, tags, captured environment and first artifacts.

        ``artifacts`` maps paths in the run to objects already stored in the
        project (the environment's files, uploaded first), so a run whose
        start fails part-way is never created: it is one transaction.
        """
        if name is not None:
            check_key(name, "run name")
        check_amount(hourly_price, "hourly_price", MAX_HOURLY_PRICE)
        start = _check_time(start_time, "start_time") or utcnow()
        files = {clean_path(path): digest for path, digest in (artifacts or {}).items()}
        run_id = new_id()
        with self.store.write() as session:
            project_row = find_project(session, project)
            if parent_id is not None:
                parent = find_run(session, parent_id, projects=self.ctx.visible_projects())
                parent_id = parent.id  # a unique prefix names it too
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
                start_time=start,
                end_time=None,
                heartbeat_at=utcnow(),
                duration=None,
                hourly_price=hourly_price,
                cost=None,
                energy_kwh=None,
                kpi_report=None,
                kpi_passed=None,
                environment=json_safe(dict(environment or {})),
                deleted=False,
            )
            session.add(row)
            session.flush()
            store_params(session, self.store, run_id, params or {})
            store_tags(session, run_id, tags or {})
            self._attach_files(session, row, files)
            if parent_id is not None:
                add_edges(session, [(f"run:{run_id}", "child_of", f"run:{parent_id}")])
            return to_record(session, row)

    def _attach_files(self, session: Session, row: RunRow, files: dict[str, str]) -> None:
        """Register objects the project already holds as the run's artifacts; NotFound for any it cannot read."""
        if not files:
            return
        from keel.artifact_service.visibility import visible
        from keel.artifacts.digest import check_digests

        digests = check_digests(files.values())
        missing = sorted(set(digests) - visible(session, row.project_id, digests))
        if missing:
            raise NotFound(
                f"no artifact {missing[0]} in project {row.project_name!r}",
                hint="upload it to the project first (artifacts.upload)",
            )
        for path, digest in files.items():
            size = self.ctx.artifacts.size(digest)
            register_artifact(session, row.id, row.project_id, path, digest, size)

    @operation("POST", "/api/v1/runs/{run_id}/batch", action=Action.AUTHENTICATED, project=GLOBAL)
    def log_batch(
        self,
        run_id: IdOrPrefix,
        metrics: Annotated[list[PointTuple], POINT_KEYS] | None = None,
        params: dict[ParamKey, ParamValue] | None = None,
        tags: Annotated[dict[TagKey, TagValue], TAGS] | None = None,
        client_id: ClientId | None = None,
        seq: Int64 | None = None,
        series: dict[MetricKey, SeriesColumns] | None = None,
    ) -> BatchResult:
        """Store metric points (key, value, step, Unix ms), params and tags in one transaction.

        ``series`` gives points by key as columns ([steps], [Unix ms], [values]).
        With ``client_id`` and ``seq`` a batch sent twice is stored once. An
        empty batch is a heartbeat. An ended run takes only points logged
        before its end (a spool sent late); a batch wider than the API takes is
        refused (413) with the limit.
        """
        if (client_id is None) != (seq is None):
            raise InvalidInput("client_id and seq go together: give both or neither")
        metrics = metrics or []
        n_points = len(metrics) + sum(len(cols[0]) for cols in (series or {}).values())
        check_batch_size(n_points, len(params or {}) + len(tags or {}))
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            latest = _latest_ms(metrics, series)
            if row.status != "RUNNING" and alive_after_all(session, row, latest, bool(params or tags)):
                revive(session, row)  # marked KILLED for silence, but its process is sending
            check_can_log(row, latest_point_ms=latest, has_entries=bool(params or tags))
            if row.status == "RUNNING":
                beat(session, row)
            run_id = row.id
            if client_id is not None and seq is not None and not claim_batch(session, run_id, client_id, seq):
                return BatchResult(metrics=0, params=0, tags=0, duplicate=True)
            n_params = store_params(session, self.store, run_id, params or {})
            n_tags = store_tags(session, run_id, tags or {})
            n_points = store_points(session, self.store, run_id, metrics, series)
            if n_points and row.status != "RUNNING":
                self._check_kpis(session, row)  # late points (a spool) may move the final values
        return BatchResult(metrics=n_points, params=n_params, tags=n_tags)

    @operation("POST", "/api/v1/runs/{run_id}/end", action=Action.AUTHENTICATED, project=GLOBAL)
    def end(
        self,
        run_id: IdOrPrefix,
        status: EndStatus = "FINISHED",
        energy_kwh: EnergyKwh | None = None,
        end_time: Since1970 | None = None,
    ) -> RunRecord:
        """End a run: duration, cost (duration x hourly price), GPU energy, and the KPI report.

        Points logged before the end and still on their way (a spool) are
        accepted after it.
        """
        if status not in get_args(EndStatus):  # the input model refuses it; a direct call too
            raise InvalidInput("status to end a run with must be FINISHED, FAILED or KILLED")
        check_amount(energy_kwh, "energy_kwh", MAX_ENERGY_KWH)
        end = _check_time(end_time, "end_time") or utcnow()
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            if killed_for_silence(session, row):
                clear_reason(session, row)  # its own process ends it after all (a spooled end)
            elif row.status != "RUNNING":
                raise Conflict(
                    f"run {row.id} is {row.status} already", hint="resume it with keel.start_run(run_id=...)"
                )
            row.status = status
            row.end_time = max(end, row.start_time)
            row.duration = (row.end_time - row.start_time).total_seconds()
            if row.hourly_price is not None:
                row.cost = row.duration / 3600.0 * row.hourly_price
            if energy_kwh is not None:
                row.energy_kwh = energy_kwh
            self._check_kpis(session, row)
            return to_record(session, row)

    def _check_kpis(self, session: Session, row: RunRow) -> None:
        kpis = [KPI.model_validate(k) for k in find_project(session, row.project_name).kpis]
        if any(k.stage == "offline" for k in kpis):
            report = evaluate_kpis(kpis, final_metrics(session, row.id), stage="offline")
            row.kpi_report = json_safe(report.model_dump(mode="json"))
            row.kpi_passed = report.passed

    @operation("POST", "/api/v1/runs/{run_id}/resume", action=Action.AUTHENTICATED, project=GLOBAL)
    def resume(self, run_id: IdOrPrefix) -> RunRecord:
        """Reopen an ended run so it takes logging again (``start_run(run_id=...)``)."""
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            if row.deleted:
                raise InvalidInput(f"run {row.id} is deleted; restore it first")
            row.status = "RUNNING"
            row.end_time = None
            row.heartbeat_at = utcnow()
            return to_record(session, row)

    @operation("GET", "/api/v1/runs/{run_id}", action=Action.AUTHENTICATED, project=GLOBAL)
    def get(self, run_id: IdOrPrefix) -> RunRecord:
        """One run (by id or unique id prefix): attributes, params, tags, final metrics, KPI report, cost, environment, artifacts."""
        if len(run_id) != ID_LENGTH:  # a prefix: find the run first, so its liveness is checked too
            with self.store.read() as session:
                run_id = self._run(session, run_id, Action.READ).id
        self._reap(run_ids=[run_id])
        with self.store.read() as session:
            row = self._run(session, run_id, Action.READ)
            return to_record(session, row)

    @operation("GET", "/api/v1/runs/{run_id}/history", action=Action.AUTHENTICATED, project=GLOBAL)
    def metric_history(self, run_id: IdOrPrefix, key: MetricKey) -> list[MetricPoint]:
        """Every point of one metric of a run, by step."""
        check_key(key, "metric key")
        with self.store.read() as session:
            row = self._run(session, run_id, Action.READ)
            return history(session, row.id, key)

    @operation("POST", "/api/v1/runs/search", action=Action.READ, project=project_from("project"))
    def search(
        self,
        project: str,
        filter: str | None = None,
        order_by: list[str] | None = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
        include_deleted: bool = False,
    ) -> Page[RunSummary]:
        """Runs of a project matching a filter (``metrics.auc > 0.9 and params.depth = 6``), ordered, a page at a time."""
        self._reap(project=project)
        with self.store.read() as session:
            project_id = find_project(session, project).id
            limits = Limits.from_settings(self.ctx.settings)
            items, token = search_runs(
                session, project_id, filter, order_by, limit, page_token, include_deleted, limits
            )
        return Page[RunSummary](items=items, next_token=token)

    @operation("DELETE", "/api/v1/runs/{run_id}", action=Action.AUTHENTICATED, project=GLOBAL)
    def delete(self, run_id: IdOrPrefix) -> RunRecord:
        """Hide a run from searches (it stays restorable, and its artifacts stay referenced)."""
        return self._set_deleted(run_id, True)

    @operation("POST", "/api/v1/runs/{run_id}/restore", action=Action.AUTHENTICATED, project=GLOBAL)
    def restore(self, run_id: IdOrPrefix) -> RunRecord:
        """Bring a deleted run back."""
        return self._set_deleted(run_id, False)

    def _set_deleted(self, run_id: str, deleted: bool) -> RunRecord:
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            row.deleted = deleted
            action = "run.delete" if deleted else "run.restore"
            self.ctx.audit(session, action, f"run:{row.id}", project_id=row.project_id)
            return to_record(session, row)

    @operation(
        "GET", "/api/v1/projects/{project}/runs/cost", action=Action.READ, project=project_from("project")
    )
    def cost(self, project: str) -> CostSummary:
        """Cost, GPU energy and duration of a project's runs, summed."""
        self._reap(project=project)
        with self.store.read() as session:
            project_id = find_project(session, project).id
            runs, cost, energy, duration = project_totals(session, project_id)
        return CostSummary(project=project, runs=runs, cost=cost, energy_kwh=energy, duration=duration)

    def _reap(self, *, project: str | None = None, run_ids: Sequence[str] = ()) -> int:
        """Mark KILLED the runs (of a project, or these) whose process stopped sending heartbeats.

        A read finds them (one indexed query, usually empty); only then does a
        write transaction mark them, re-checking each, so the common read
        stays a read.
        """
        timeout = float(self.ctx.settings.run_heartbeat_timeout_s or 0)
        run_ids = [r for r in run_ids if is_run_id(r)]
        if timeout <= 0 or not (project or run_ids):
            return 0
        with self.store.read() as session:
            project_id = find_project(session, project).id if project is not None else None
            stale = stale_ids(session, timeout, project_id=project_id, run_ids=run_ids)
        if not stale:
            return 0
        with self.store.write() as session:
            return mark_killed(session, stale, timeout)

    @operation(
        "POST", "/api/v1/projects/{project}/runs/reap", action=Action.WRITE, project=project_from("project")
    )
    def reap(self, project: str) -> int:
        """Mark KILLED every run of the project whose process stopped sending heartbeats; returns how many.

        Reading a run or searching a project does this too; this is for a
        scheduler that wants the statuses right before anyone looks.
        """
        return self._reap(project=project)
