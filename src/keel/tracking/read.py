"""Reading runs back: one run whole, a metric's history, a project's cost."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from keel.core.errors import NotFound
from keel.core.kpi import KPIReport
from keel.projects.idprefix import ID_LENGTH, could_be_prefix, resolve_prefix
from keel.tracking.models import LatestMetricRow, ParamRow, RunArtifactRow, RunRow, TagRow, metric_chunks
from keel.tracking.points import merge
from keel.tracking.schemas import MetricPoint, RunArtifact, RunRecord
from keel.tracking.values import MAX_ENERGY_KWH, decode_param

#: What a run id can look like (ULIDs are 26 of these); anything else names no run.
_RUN_ID = re.compile(r"^[0-9A-Za-z]{1,64}$")


def is_run_id(text: str) -> bool:
    """Whether ``text`` could be a run's id (so it may be sent to the database)."""
    return bool(_RUN_ID.match(text))


def find_run(
    session: Session, run_id: str, *, lock: bool = False, projects: frozenset[str] | None = None
) -> RunRow:
    """The run with this id or unique id prefix (as git takes a short hash); NotFound naming it otherwise.

    The one place every run operation (SDK, CLI, REST) turns what the caller
    typed into a run: a full id is one primary-key read; a shorter prefix
    (at least :data:`~keel.projects.idprefix.MIN_PREFIX` characters) must
    match exactly one run among ``projects`` (the caller's visible projects;
    None: all), else InvalidInput naming the candidates. Text no run id could
    start with never reaches the database and answers like an unknown run.
    """
    if not is_run_id(run_id) or not could_be_prefix(run_id):
        raise run_not_found(run_id)
    full = run_id.upper()
    if len(full) != ID_LENGTH:
        where = [RunRow.project_id.in_(projects)] if projects is not None else []
        try:
            full = resolve_prefix(session, RunRow.id, run_id, "run", where=where)
        except NotFound:
            raise run_not_found(run_id) from None
    row = session.get(
        RunRow, full, with_for_update=lock if session.get_bind().dialect.name != "sqlite" else False
    )
    if row is None:
        raise run_not_found(run_id)
    return row


def run_not_found(run_id: str) -> NotFound:
    """The one answer for a run that does not exist or that the caller may not see."""
    return NotFound(f"no run with id {run_id!r}", hint="see `keel run ls`")


def to_record(session: Session, row: RunRow) -> RunRecord:
    """The whole run: attributes, params, tags, final metrics, artifacts."""
    params = {
        key: decode_param(kind, value)
        for key, kind, value in session.execute(
            select(ParamRow.key, ParamRow.kind, ParamRow.value)
            .where(ParamRow.run_id == row.id)
            .order_by(ParamRow.key)
        )
    }
    tags = {
        key: value
        for key, value in session.execute(
            select(TagRow.key, TagRow.value).where(TagRow.run_id == row.id).order_by(TagRow.key)
        )
    }
    metrics = {
        key: float("nan") if value is None else value
        for key, value in session.execute(
            select(LatestMetricRow.key, LatestMetricRow.value)
            .where(LatestMetricRow.run_id == row.id)
            .order_by(LatestMetricRow.key)
        )
    }
    artifacts = [
        RunArtifact(path=a.path, digest=a.digest, size=a.size, created_at=a.created_at)
        for a in session.execute(
            select(RunArtifactRow).where(RunArtifactRow.run_id == row.id).order_by(RunArtifactRow.path)
        ).scalars()
    ]
    return RunRecord(
        id=row.id,
        project=row.project_name,
        project_id=row.project_id,
        name=row.name,
        status=row.status,
        parent_id=row.parent_id,
        user=row.user,
        start_time=row.start_time,
        end_time=row.end_time,
        duration=row.duration,
        hourly_price=row.hourly_price,
        cost=row.cost,
        energy_kwh=row.energy_kwh,
        kpi_report=KPIReport.model_validate(row.kpi_report) if row.kpi_report else None,
        kpi_passed=row.kpi_passed,
        deleted=row.deleted,
        params=params,
        tags=tags,
        metrics=metrics,
        environment=dict(row.environment or {}),
        artifacts=artifacts,
    )


def final_metrics(session: Session, run_id: str) -> dict[str, float]:
    """Each metric's final value (highest step, latest timestamp breaking ties)."""
    return {
        key: float("nan") if value is None else value
        for key, value in session.execute(
            select(LatestMetricRow.key, LatestMetricRow.value).where(LatestMetricRow.run_id == run_id)
        )
    }


def history(session: Session, run_id: str, key: str) -> list[MetricPoint]:
    """Every point of one metric, by step then timestamp (points from all processes)."""
    t = metric_chunks.c
    chunks = session.execute(
        select(t.data, t.count, t.fmt).where(t.run_id == run_id, t.key == key).order_by(t.first_step)
    ).all()
    return [
        MetricPoint(key=key, value=value, step=step, timestamp=ts)
        for step, ts, value in merge((bytes(d), c, f) for d, c, f in chunks)
    ]


def metric_keys(session: Session, run_id: str) -> list[str]:
    return list(
        session.execute(
            select(LatestMetricRow.key).where(LatestMetricRow.run_id == run_id).order_by(LatestMetricRow.key)
        ).scalars()
    )


def project_totals(session: Session, project_id: str) -> tuple[int, float, float, float]:
    """(runs, cost, energy kWh, duration s) over the project's runs that are not deleted.

    Each figure is summed only where it is finite and in range, so a value
    stored before the edge checked ranges (``energy_kwh: 1e308``) can never
    make the sum overflow; such values are left out rather than breaking the
    project's cost for good.
    """

    def bounded(column: Any, limit: float) -> Any:
        return func.coalesce(func.sum(case((column.between(0.0, limit), column), else_=None)), 0.0)

    row = session.execute(
        select(
            func.count(RunRow.id),
            bounded(RunRow.cost, _MAX_FIGURE),
            bounded(RunRow.energy_kwh, MAX_ENERGY_KWH),
            bounded(RunRow.duration, _MAX_FIGURE),
        ).where(RunRow.project_id == project_id, RunRow.deleted.is_(False))
    ).one()
    return int(row[0]), float(row[1] or 0), float(row[2] or 0), float(row[3] or 0)


#: A run's cost or duration beyond this is not a real figure (a century of a 1e6/h machine is ~1e15).
_MAX_FIGURE = 1e18
