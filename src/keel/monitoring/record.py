"""Judge a window against a monitor's stored reference and store the evaluation (report, row, lineage).

The reference statistics are read from the artifact store once per process
and kept by digest (a handful of monitors' worth), so a check pays only for
reading and sorting its own window.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING

from keel.artifacts.references import add_refs
from keel.context import Context
from keel.core.ids import new_id
from keel.core.operations import current_caller
from keel.core.timeutil import utcnow
from keel.lineage import add_edges
from keel.monitoring.evaluate import LABEL, PREDICTION, figures, judge, live_kpis
from keel.monitoring.models import EvaluationRow
from keel.monitoring.schemas import InfraFigures, Monitor, MonitorReport
from keel.projects.service import ProjectService, find_project
from keel.stats.drift_reference import ColumnReference, decode_reference

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.stats.drift_domain import DomainResult

_CACHE_SIZE = 8
#: Reference rows kept for the multivariate check (and window rows it reads at most).
SAMPLE_ROWS = 5000
_cache: OrderedDict[str, dict[str, ColumnReference]] = OrderedDict()
_cache_lock = threading.Lock()


def remember(digest: str, refs: dict[str, ColumnReference]) -> None:
    """Keep a monitor's decoded reference statistics in memory under their digest."""
    with _cache_lock:
        _cache[digest] = refs
        _cache.move_to_end(digest)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


def load_references(ctx: Context, digest: str) -> dict[str, ColumnReference]:
    """A monitor's reference statistics, from memory or the artifact store."""
    with _cache_lock:
        found = _cache.get(digest)
        if found is not None:
            _cache.move_to_end(digest)
            return found
    refs = decode_reference(ctx.artifacts.read_bytes(digest))
    remember(digest, refs)
    return refs


def _sample_digest(ctx: Context, monitor: Monitor) -> str | None:
    """The stored reference sample of a monitor that asked for the multivariate check (from its row)."""
    if not monitor.multivariate:
        return None
    from keel.monitoring.models import MonitorRow

    with ctx.store.read() as session:
        row = session.get(MonitorRow, monitor.id)
        return None if row is None else row.settings.get("sample_digest")


def _domain(
    ctx: Context, digest: str, batch: pa.Table, monitor: Monitor, notes: list[str]
) -> DomainResult | None:
    """The domain classifier on the stored reference sample and the window's features."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.stats.drift_domain import domain_classifier

    sample = pq.read_table(pa.BufferReader(ctx.artifacts.read_bytes(digest)))
    try:
        return domain_classifier(
            sample,
            batch.select(monitor.features),
            monitor.features,
            alpha=monitor.alpha,
            max_rows=SAMPLE_ROWS,
        )
    except ValueError as exc:
        notes.append(f"multivariate check not run: {exc}")
        return None


def judge_and_store(
    ctx: Context,
    project: str,
    monitor: Monitor,
    batch: pa.Table,
    source: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    infra: InfraFigures | None = None,
) -> MonitorReport:
    refs = load_references(ctx, monitor.reference_digest)
    drift, prediction, label, notes = judge(refs, batch, monitor)
    kpis = None
    if LABEL in refs and PREDICTION in batch.column_names and LABEL in batch.column_names:
        kpis = live_kpis(batch, ProjectService(ctx).get(project).kpis)
    multivariate = None
    sample_digest = _sample_digest(ctx, monitor)
    if sample_digest is not None:
        multivariate = _domain(ctx, sample_digest, batch, monitor, notes)
    found = figures(drift, prediction, label, kpis, infra)
    if multivariate is not None:
        found["multivariate.auc"] = multivariate.auc
        found["multivariate.drifted"] = float(multivariate.drifted)
    report = MonitorReport(
        id=new_id(),
        project=project,
        monitor=monitor.name,
        source=source,
        window_start=since,
        window_end=until,
        rows=batch.num_rows,
        drifted=bool(drift.drifted)
        or bool(prediction and prediction.drifted)
        or bool(multivariate and multivariate.drifted),
        drift_share=drift.share,
        figures=found,
        report_digest="0" * 64,
        created_by=current_caller().name,
        created_at=utcnow(),
        reference_address=monitor.reference_address,
        drift=drift,
        prediction=prediction,
        label=label,
        kpis=kpis,
        infra=infra,
        multivariate=multivariate,
        notes=notes,
    )
    body = report.model_dump_json(exclude={"report_digest", "alerts"}).encode()
    report.report_digest = ctx.artifacts.put_bytes(body)
    ctx.artifacts.sync()
    with ctx.store.write() as session:
        project_id = find_project(session, project).id
        session.add(
            EvaluationRow(
                id=report.id,
                monitor_id=monitor.id,
                project_id=project_id,
                source=source,
                window_start=since,
                window_end=until,
                rows=report.rows,
                drifted=report.drifted,
                drift_share=report.drift_share,
                figures=found,
                report_digest=report.report_digest,
                created_by=report.created_by,
                created_at=report.created_at,
            )
        )
        add_refs(session, [(report.report_digest, report.ref)], project_id=project_id)
        add_edges(session, [(report.ref, "evaluates", monitor.ref)])
    return report
