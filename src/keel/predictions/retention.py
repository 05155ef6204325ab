"""Retention: a deployment's log older than its window dropped, segments, index rows and labels together.

The window is the deployment's ``log_retention_days`` setting unless the
caller names one. Segments whose newest row is older than the cut go with
their index rows and the labels of those rows, in one transaction; their
objects lose the deployment's reference, so the next ``keel artifacts gc``
reclaims the bytes. Nothing newer is touched (a segment straddling the cut
is kept whole).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from keel.artifacts.references import remove_refs
from keel.context import Context
from keel.core.errors import InvalidInput
from keel.core.timeutil import utcnow
from keel.predictions.models import LabelRow, PredictionRow, SegmentRow

CHUNK = 500


def prune(ctx: Context, deployment: str, deployment_id: str, days: float) -> tuple[int, int, int]:
    """Drop segments older than ``days``; returns (segments, rows, labels) removed. InvalidInput for days <= 0."""
    if not days > 0:
        raise InvalidInput(f"the retention window is {days} days; it must be more than 0")
    cut = utcnow() - timedelta(days=days)
    rows = labels = 0
    with ctx.store.write() as session:
        old = list(
            session.execute(
                select(SegmentRow.id, SegmentRow.digest).where(
                    SegmentRow.deployment == deployment, SegmentRow.last_at < cut
                )
            ).tuples()
        )
        ids = [segment_id for segment_id, _ in old]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            request_ids = list(
                session.execute(
                    select(PredictionRow.request_id).where(PredictionRow.segment_id.in_(chunk))
                ).scalars()
            )
            for at in range(0, len(request_ids), CHUNK):
                gone = session.execute(
                    delete(LabelRow).where(
                        LabelRow.deployment == deployment,
                        LabelRow.request_id.in_(request_ids[at : at + CHUNK]),
                    )
                )
                labels += int(getattr(gone, "rowcount", 0) or 0)
            gone = session.execute(delete(PredictionRow).where(PredictionRow.segment_id.in_(chunk)))
            rows += int(getattr(gone, "rowcount", 0) or 0)
            session.execute(delete(SegmentRow).where(SegmentRow.id.in_(chunk)))
        kept = (
            set(
                session.execute(
                    select(SegmentRow.digest).where(SegmentRow.digest.in_([d for _, d in old]))
                ).scalars()
            )
            if old
            else set()
        )
        unused = sorted({d for _, d in old} - kept)
        if unused:
            remove_refs(session, f"deployment:{deployment_id}", unused)
        ctx.audit(
            session,
            "predictions.prune",
            f"deployment:{deployment_id}",
            segments=len(old),
            rows=rows,
            days=days,
        )
    return len(old), rows, labels
