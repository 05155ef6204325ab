"""Pipeline operations: record a pipeline run and its steps, look up and fill the step cache, list and show.

The engine (:mod:`keel.pipelines.run`) runs on the caller's machine and calls
these through the SDK client, local or remote, so a pipeline run on a laptop
pointed at the team's server records and caches exactly as one on the server.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from annotated_types import Len
from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.constraints import Limit, PipelineEndStatus
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, operation, project_from
from keel.core.timeutil import utcnow
from keel.lineage import add_edges
from keel.pipelines.models import PipelineRunRow, PipelineStepRow, StepCacheRow
from keel.pipelines.schemas import CacheEntry, PipelineRun, StepPlan, StepRecord, StepUpdate
from keel.pipelines.triggers import TriggerOperations
from keel.projects.idprefix import find_id
from keel.projects.service import find_project

_PREFIX = "/api/v1/projects/{project}/pipeline-runs"
#: Most keys one cache lookup takes and most steps one pipeline run records.
MAX_STEPS = 10_000


def _step(row: PipelineStepRow) -> StepRecord:
    return StepRecord(
        name=row.name,
        position=row.position,
        upstream=list(row.upstream),
        params=dict(row.params),
        status=row.status,
        cached=row.cached,
        cache_key=row.cache_key,
        output_digest=row.output_digest,
        output_format=row.output_format,
        run_id=row.run_id,
        duration_s=row.duration_s,
        error=row.error,
    )


def _run(row: PipelineRunRow, project: str, steps: list[PipelineStepRow] | None = None) -> PipelineRun:
    return PipelineRun(
        id=row.id,
        project=project,
        pipeline=row.pipeline,
        target=row.target,
        status=row.status,
        params=dict(row.params),
        run_id=row.run_id,
        failed_step=row.failed_step,
        error=row.error,
        started_at=row.started_at,
        ended_at=row.ended_at,
        steps=[_step(s) for s in sorted(steps or [], key=lambda s: s.position)],
    )


class PipelineService(TriggerOperations):
    """ML pipelines: runs of step DAGs, their cache and their lineage; triggers (:mod:`keel.pipelines.triggers`)."""

    name = "pipelines"

    def _find(self, session: Session, project_id: str, run_id: str) -> PipelineRunRow:
        """The project's pipeline run that ``run_id`` (an id or a unique prefix of one) names."""
        full = find_id(
            session,
            PipelineRunRow.id,
            run_id,
            "pipeline run",
            where=[PipelineRunRow.project_id == project_id],  # ambiguity never names another project's run
            hint="`keel pipeline ls` lists them",
        )
        row = session.get(PipelineRunRow, full)
        assert row is not None, "find_id returned an id it found"
        return row

    @operation("POST", _PREFIX, action=Action.WRITE, project=project_from("project"), status_code=201)
    def start(
        self,
        project: str,
        pipeline: str,
        target: str,
        steps: Annotated[list[StepPlan], Len(1, MAX_STEPS)],
        params: dict[str, Any] | None = None,
        run_id: str | None = None,
    ) -> PipelineRun:
        """Record a pipeline run about to start, with every step planned as PENDING."""
        if not steps or len(steps) > MAX_STEPS:
            raise InvalidInput(f"a pipeline run records 1 to {MAX_STEPS} steps, not {len(steps)}")
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise InvalidInput("step names of a pipeline run must be unique")
        with self.store.write() as session:
            project_row = find_project(session, project)
            row = PipelineRunRow(
                id=new_id(),
                project_id=project_row.id,
                pipeline=pipeline,
                target=target,
                status="RUNNING",
                params=params or {},
                run_id=run_id,
                failed_step=None,
                error=None,
                started_at=utcnow(),
                ended_at=None,
            )
            session.add(row)
            step_rows = [
                PipelineStepRow(
                    pipeline_run_id=row.id,
                    name=s.name,
                    position=i,
                    upstream=s.upstream,
                    params=s.params,
                    status="PENDING",
                    cached=False,
                )
                for i, s in enumerate(steps)
            ]
            session.add_all(step_rows)
            session.flush()
            return _run(row, project_row.name, step_rows)

    @operation("POST", _PREFIX + "/cache", action=Action.READ, project=project_from("project"))
    def cache_lookup(self, project: str, keys: list[str]) -> list[CacheEntry]:
        """The cached outputs for those of ``keys`` that have one whose object the artifact store still holds."""
        if len(keys) > MAX_STEPS:
            raise InvalidInput(f"look up at most {MAX_STEPS} cache keys at once")
        with self.store.read() as session:
            project_row = find_project(session, project)
            rows = session.execute(
                select(StepCacheRow, PipelineStepRow.run_id)
                .outerjoin(
                    PipelineStepRow,
                    (PipelineStepRow.pipeline_run_id == StepCacheRow.pipeline_run_id)
                    & (PipelineStepRow.name == StepCacheRow.step),
                )
                .where(StepCacheRow.project_id == project_row.id, StepCacheRow.cache_key.in_(keys))
            ).all()
            entries = [
                CacheEntry(
                    cache_key=r.cache_key,
                    output_digest=r.output_digest,
                    output_format=r.output_format,
                    run_id=run_id,
                )
                for r, run_id in rows
            ]
        held = self.ctx.artifacts.exists(sorted({e.output_digest for e in entries})) if entries else set()
        return [e for e in entries if e.output_digest in held]  # a collected object is computed again

    @operation(
        "POST", _PREFIX + "/{pipeline_run_id}/steps", action=Action.WRITE, project=project_from("project")
    )
    def record_steps(
        self, project: str, pipeline_run_id: str, steps: Annotated[list[StepUpdate], Len(1, MAX_STEPS)]
    ) -> list[StepRecord]:
        """Record what became of some steps in one transaction (a cached re-run records all of them at once).

        A freshly computed output enters the cache, and lineage edges tie the
        step's run to its inputs' and output's artifacts.
        """
        if not steps or len(steps) > MAX_STEPS:
            raise InvalidInput(f"record 1 to {MAX_STEPS} steps at once, not {len(steps)}")
        with self.store.write() as session:
            project_row = find_project(session, project)
            run = self._find(session, project_row.id, pipeline_run_id)
            query = select(PipelineStepRow).where(PipelineStepRow.pipeline_run_id == run.id)
            rows = {r.name: r for r in session.execute(query).scalars()}
            done: list[StepRecord] = []
            edges: list[tuple[str, str, str]] = []
            for up in steps:
                row = rows.get(up.name)
                if row is None:
                    raise NotFound(f"pipeline run {run.id} has no step {up.name!r}")
                row.status, row.cached, row.cache_key = up.status, up.cached, up.cache_key
                row.output_digest, row.output_format = up.output_digest, up.output_format
                row.run_id, row.duration_s, row.error = up.run_id, up.duration_s, up.error
                if up.status == "FINISHED" and not up.cached:
                    self._cache(session, project_row.id, run.id, up)
                if up.run_id is not None:
                    edges += [(f"run:{up.run_id}", "used", f"artifact:{d}") for d in sorted(set(up.inputs))]
                    if up.output_digest is not None:
                        edges.append((f"artifact:{up.output_digest}", "produced_by", f"run:{up.run_id}"))
                done.append(_step(row))
            if edges:
                add_edges(session, edges)
            session.flush()
            return done

    @staticmethod
    def _cache(session: Session, project_id: str, pipeline_run_id: str, up: StepUpdate) -> None:
        """Enter a freshly computed output in the project's cache (the newest wins)."""
        if not (up.cache_key and up.output_digest and up.output_format):
            return
        entry = session.get(StepCacheRow, (project_id, up.cache_key))
        if entry is None:
            session.add(
                StepCacheRow(
                    project_id=project_id,
                    cache_key=up.cache_key,
                    step=up.name,
                    output_digest=up.output_digest,
                    output_format=up.output_format,
                    pipeline_run_id=pipeline_run_id,
                    created_at=utcnow(),
                )
            )
        else:
            entry.output_digest, entry.output_format = up.output_digest, up.output_format
            entry.step, entry.pipeline_run_id = up.name, pipeline_run_id

    @operation(
        "POST", _PREFIX + "/{pipeline_run_id}/end", action=Action.WRITE, project=project_from("project")
    )
    def finish(
        self,
        project: str,
        pipeline_run_id: str,
        status: PipelineEndStatus,
        failed_step: str | None = None,
        error: str | None = None,
        run_id: str | None = None,
    ) -> PipelineRun:
        """End a pipeline run; steps never reached stay recorded as SKIPPED.

        ``run_id`` is its parent tracking run when one was made after the start
        (the driver makes it when the first step must run).
        """
        if status not in get_args(PipelineEndStatus):  # the input model refuses it; a direct call too
            raise InvalidInput("status to end a pipeline run with must be FINISHED or FAILED")
        with self.store.write() as session:
            project_row = find_project(session, project)
            row = self._find(session, project_row.id, pipeline_run_id)
            row.status, row.failed_step, row.error, row.ended_at = status, failed_step, error, utcnow()
            if run_id is not None:
                row.run_id = run_id
            steps = list(
                session.execute(
                    select(PipelineStepRow).where(PipelineStepRow.pipeline_run_id == row.id)
                ).scalars()
            )
            for s in steps:
                if s.status in ("PENDING", "RUNNING"):
                    s.status = "SKIPPED"
            session.flush()
            return _run(row, project_row.name, steps)

    @operation("GET", _PREFIX, action=Action.READ, project=project_from("project"))
    def list(self, project: str, pipeline: str | None = None, limit: Limit = 50) -> list[PipelineRun]:
        """The project's pipeline runs, newest first (without their steps)."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        with self.store.read() as session:
            project_row = find_project(session, project)
            query = select(PipelineRunRow).where(PipelineRunRow.project_id == project_row.id)
            if pipeline is not None:
                query = query.where(PipelineRunRow.pipeline == pipeline)
            rows = session.execute(query.order_by(PipelineRunRow.id.desc()).limit(limit)).scalars()
            return [_run(r, project_row.name) for r in rows]

    @operation("GET", _PREFIX + "/{pipeline_run_id}", action=Action.READ, project=project_from("project"))
    def get(self, project: str, pipeline_run_id: str) -> PipelineRun:
        """One pipeline run with its steps: status, cached or not, duration, output and child run."""
        with self.store.read() as session:
            project_row = find_project(session, project)
            row = self._find(session, project_row.id, pipeline_run_id)
            steps = list(
                session.execute(
                    select(PipelineStepRow).where(PipelineStepRow.pipeline_run_id == row.id)
                ).scalars()
            )
            return _run(row, project_row.name, steps)
