"""Min/max per bucket: a long metric series cut to what a chart can draw, keeping its extremes and gaps.

A chart a thousand pixels wide cannot show a million points; sending them
costs the network and the browser's memory for nothing. The step range asked
for is cut into equal-width buckets (about one per pixel) and each bucket
keeps its lowest and its highest finite point, in step order, so spikes and
dips survive (LTTB picks by area and can drop a single-step spike; min/max
cannot). A bucket holding a NaN or an infinity also keeps one ``None`` at
that step, which the chart draws as a gap rather than a line through it.

Pure NumPy over arrays already ordered by step; no storage here (``series_ops`` reads
the stored chunks and calls it, as the ``runs.metric_series`` operation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from keel.core.errors import InvalidInput

#: The most points a series may be cut to, and the fewest.
MAX_POINTS = 20_000
MIN_POINTS = 3


@dataclass(frozen=True)
class Series:
    """A (possibly downsampled) series: ``values[i]`` is ``None`` for a gap (NaN or infinity)."""

    steps: list[int]
    values: list[float | None]
    total: int  # points in the range asked for, before downsampling
    downsampled: bool


def _as_series(steps: npt.NDArray[np.int64], values: npt.NDArray[np.float64], total: int) -> Series:
    finite = np.isfinite(values)
    out: list[float | None] = [
        float(v) if ok else None for v, ok in zip(values.tolist(), finite.tolist(), strict=True)
    ]
    return Series(steps=[int(s) for s in steps.tolist()], values=out, total=total, downsampled=False)


def downsample(
    steps: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    points: int = 2000,
    lo: int | None = None,
    hi: int | None = None,
) -> Series:
    """The points of ``steps``/``values`` (ordered by step) within ``[lo, hi]``, at most ``points`` of them.

    Raises InvalidInput for a ``points`` outside [3, 20000] or ``lo > hi``.
    """
    if not MIN_POINTS <= points <= MAX_POINTS:
        raise InvalidInput(f"points must be between {MIN_POINTS} and {MAX_POINTS}, got {points}")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInput(f"the zoom range is empty: from step {lo} is after step {hi}")
    s = np.asarray(steps, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    if s.shape != v.shape or s.ndim != 1:
        raise InvalidInput("steps and values must be two sequences of the same length")
    start = 0 if lo is None else int(np.searchsorted(s, lo, side="left"))
    stop = len(s) if hi is None else int(np.searchsorted(s, hi, side="right"))
    s, v = s[start:stop], v[start:stop]
    total = len(s)
    if total <= points:
        return _as_series(s, v, total)
    buckets = points // 3  # each bucket yields at most a min, a max and a gap marker
    first, last = int(s[0]), int(s[-1])
    width = max(last - first, 1)
    index = np.minimum(((s - first).astype(np.float64) * buckets / width).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])  # steps are sorted: buckets are runs
    finite = np.isfinite(v)
    low = np.where(finite, v, np.inf)
    high = np.where(finite, v, -np.inf)
    picked: list[npt.NDArray[np.int64]] = []
    ends = np.r_[starts[1:], len(s)]
    for begin, end in zip(starts.tolist(), ends.tolist(), strict=True):
        chunk_ok = finite[begin:end]
        keep: list[int] = []
        if chunk_ok.any():
            keep.append(begin + int(np.argmin(low[begin:end])))
            keep.append(begin + int(np.argmax(high[begin:end])))
        if not chunk_ok.all():
            keep.append(begin + int(np.argmin(chunk_ok)))  # the first NaN/inf: a gap here
        picked.append(np.unique(np.asarray(keep, dtype=np.int64)))
    chosen = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
    series = _as_series(s[chosen], v[chosen], total)
    return Series(steps=series.steps, values=series.values, total=total, downsampled=True)
