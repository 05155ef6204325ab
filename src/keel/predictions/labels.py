"""Recording delayed ground truth: one label per logged row, by request id, all or nothing.

A label names a row the log holds (``id`` for a one-row request, ``id:row``
for each row of a larger one). An id the log does not hold, an id given
twice in one call, or an id labeled before is refused, naming the id, and
nothing of the call is recorded. A prediction is in the log once its segment
is flushed (within the server's ``log_flush_s``, 2 s by default, and at
shutdown); a label sent sooner is refused as unknown and can be sent again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from keel.context import Context
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import current_caller
from keel.core.timeutil import utcnow
from keel.predictions.models import LabelRow, PredictionRow
from keel.predictions.schemas import Label

CHUNK = 500  # ids per IN (...) query: well under every database's parameter limit


def _some(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def record_labels(ctx: Context, project_id: str, deployment: str, labels: Sequence[Label]) -> int:
    """Record ``labels`` for deployment ``deployment``; returns how many.

    Raises InvalidInput for no labels or an id repeated in the call, NotFound
    naming ids the log does not hold, Conflict naming ids labeled before.
    """
    if not labels:
        raise InvalidInput("no labels given: send at least one (request_id, value)")
    ids = [label.request_id for label in labels]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    if repeated:
        raise InvalidInput(f"request id {_some(repeated)} is given more than once; a row takes one label")
    with ctx.store.write() as session:
        known: set[str] = set()
        labeled: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            known.update(
                session.execute(
                    select(PredictionRow.request_id)
                    .where(PredictionRow.deployment == deployment, PredictionRow.request_id.in_(chunk))
                    .distinct()
                ).scalars()
            )
            labeled.update(
                session.execute(
                    select(LabelRow.request_id).where(
                        LabelRow.deployment == deployment, LabelRow.request_id.in_(chunk)
                    )
                ).scalars()
            )
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise NotFound(
                f"deployment {deployment!r} logged no prediction with request id {_some(unknown)} "
                "(a request of several rows is labeled per row, as ID:ROW)",
                hint="a prediction is logged within a few seconds of its answer",
            )
        again = [i for i in ids if i in labeled]
        if again:
            raise Conflict(f"request id {_some(again)} of deployment {deployment!r} is labeled already")
        now, who = utcnow(), current_caller().name
        rows = [
            {
                "id": new_id(),
                "project_id": project_id,
                "deployment": deployment,
                "request_id": label.request_id,
                "value": label.value,
                "created_by": who,
                "at": now,
            }
            for label in labels
        ]
        try:
            session.execute(insert(LabelRow), rows)
            session.flush()
        except IntegrityError:  # another caller labeled one of them meanwhile
            raise Conflict(f"a request id of {_some(ids)} was labeled meanwhile; nothing recorded") from None
    return len(rows)
