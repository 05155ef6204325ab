"""A metric as a chart draws it: ``runs.metric_series``, downsampled on the server.

``runs.metric_history`` answers every point as an object, which for a
million-point metric costs seconds and megabytes a chart cannot use. This
operation reads the stored chunks as arrays (``keel.tracking.points``), keeps
the step range asked for, and cuts it to at most ``points`` points with
:func:`keel.tracking.downsample.downsample` (min and max per step bucket, a gap
where the value was NaN or infinite). The web UI draws from it and so does any
REST or SDK caller, so both see the same series; zooming is asking again with
``lo``/``hi``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.constraints import IdOrPrefix, MetricKey
from keel.core.operations import GLOBAL, Action, operation
from keel.tracking.downsample import MAX_POINTS, MIN_POINTS, downsample
from keel.tracking.guard import RunGuard
from keel.tracking.models import metric_chunks
from keel.tracking.points import unpack
from keel.tracking.values import Int64, check_key

#: How many points a series is cut to when the caller does not say (about two per pixel of a chart).
DEFAULT_POINTS = 2000


class MetricSeries(BaseModel):
    """One metric of a run as columns; ``values[i]`` is null where the value was NaN or infinite."""

    run_id: str
    key: str
    total: int = Field(description="points in the step range asked for, before downsampling")
    downsampled: bool
    steps: list[int]
    values: list[float | None]


def series_arrays(session: Session, run_id: str, key: str) -> tuple[Any, Any]:
    """(steps, values) of one metric as NumPy arrays, by step then timestamp (as ``history`` orders them)."""
    import numpy as np

    t = metric_chunks.c
    chunks = session.execute(
        select(t.data, t.count, t.fmt).where(t.run_id == run_id, t.key == key).order_by(t.first_step)
    ).all()
    parts = [unpack(bytes(data), count, fmt) for data, count, fmt in chunks]
    if not parts:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    steps = np.concatenate([p[0] for p in parts])
    timestamps = np.concatenate([p[1] for p in parts])
    values = np.concatenate([p[2] for p in parts])
    order = np.lexsort((timestamps, steps))
    return steps[order], values[order]


class RunSeriesOps(RunGuard):
    """The downsampled-series operation of the runs service."""

    @operation("GET", "/api/v1/runs/{run_id}/series", action=Action.AUTHENTICATED, project=GLOBAL)
    def metric_series(
        self,
        run_id: IdOrPrefix,
        key: MetricKey,
        points: Annotated[int, Field(ge=MIN_POINTS, le=MAX_POINTS)] = DEFAULT_POINTS,
        lo: Int64 | None = None,
        hi: Int64 | None = None,
    ) -> MetricSeries:
        """One metric of a run cut to at most ``points`` points (min and max per step bucket, NaN/inf as null), within steps [lo, hi] if given.

        A series no longer than ``points`` comes back whole. Raises
        InvalidInput for ``lo`` after ``hi``; NotFound for a run the caller
        cannot see. A key the run never logged is an empty series.
        """
        check_key(key, "metric key")
        with self.store.read() as session:
            row = self._run(session, run_id, Action.READ)
            steps, values = series_arrays(session, row.id, key)
        cut = downsample(steps, values, points=points, lo=lo, hi=hi)
        return MetricSeries(
            run_id=row.id,
            key=key,
            total=cut.total,
            downsampled=cut.downsampled,
            steps=cut.steps,
            values=cut.values,
        )
