"""Reading a deployment's log for a window of time, joined with the labels that have arrived.

:func:`window` is what monitoring computes live KPIs and drift from: one
Arrow table, the segments that overlap the window read from the artifact
store, cut to the window and given a ``label`` column (null where no label
came yet) and a ``labeled`` flag. Segments written by several replicas of
one deployment read as one log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from keel.context import Context
from keel.predictions.models import LabelRow, PredictionRow, SegmentRow
from keel.predictions.segment import decode


def window(
    ctx: Context,
    deployment: str,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    labeled_only: bool = False,
) -> pa.Table:
    """Deployment ``deployment``'s logged rows with ``since <= at < until`` (open ends: all), oldest first.

    Columns: ``request_id``, ``at``, ``model_version``, ``latency_ms``, the
    ``input.*`` columns (or ``input``), ``output``, ``label`` and ``labeled``.
    An empty table (those columns, no rows) when nothing was logged. Checks no
    permission: operations that call it authorize first.
    """
    with ctx.store.read() as session:
        query = select(SegmentRow.id, SegmentRow.digest).where(SegmentRow.deployment == deployment)
        if since is not None:
            query = query.where(SegmentRow.last_at >= since)
        if until is not None:
            query = query.where(SegmentRow.first_at < until)
        segments = list(session.execute(query.order_by(SegmentRow.first_at)).tuples())
        digests = [digest for _, digest in segments]
        logged = select(PredictionRow.request_id).where(
            PredictionRow.segment_id.in_([segment_id for segment_id, _ in segments])
        )
        found = session.execute(
            select(LabelRow.request_id, LabelRow.value).where(
                LabelRow.deployment == deployment, LabelRow.request_id.in_(logged)
            )
        )
        labels: dict[str, Any] = {request_id: value for request_id, value in found}
    tables = [decode(ctx.artifacts.read_bytes(d)) for d in digests]
    if not tables:
        return _empty()
    table = pa.concat_tables(tables, promote_options="permissive")
    mask = None
    if since is not None:
        mask = pc.greater_equal(table["at"], pa.scalar(since, pa.timestamp("us", tz="UTC")))
    if until is not None:
        before = pc.less(table["at"], pa.scalar(until, pa.timestamp("us", tz="UTC")))
        mask = before if mask is None else pc.and_(mask, before)
    if mask is not None:
        table = table.filter(mask)
    table = table.sort_by("at")
    ids = table.column("request_id").to_pylist()
    found = [labels.get(i) for i in ids]
    table = table.append_column("label", _label_array(found))
    table = table.append_column("labeled", pa.array([i in labels for i in ids], type=pa.bool_()))
    if labeled_only:
        table = table.filter(table["labeled"])
    return table


def _label_array(values: list[Any]) -> pa.Array:
    """Labels as one column: their own type when they share one, else their text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _empty() -> pa.Table:
    return pa.table(
        {
            "request_id": pa.array([], pa.string()),
            "at": pa.array([], pa.timestamp("us", tz="UTC")),
            "model_version": pa.array([], pa.int32()),
            "latency_ms": pa.array([], pa.float64()),
            "output": pa.array([], pa.float64()),
            "label": pa.array([], pa.null()),
            "labeled": pa.array([], pa.bool_()),
        }
    )
