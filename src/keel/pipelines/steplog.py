"""Metrics a step logs while it runs, buffered where it runs and carried back with its result.

A step may run in this process, in a forked worker or on a Ray node, none
of which should talk to the metadata store on its own. So
:func:`log_metric` only appends to a buffer the executor opened for this
call; the executor hands the points back beside the step's value, and the
driver writes them to the step's child run in one batch. Outside a pipeline
run (a step called as a plain function in a unit test) logging is a no-op,
so steps stay testable without Keel.
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from keel.core.errors import InvalidInput

#: (key, value, step, Unix ms): the tracking API's point tuple.
Point = tuple[str, float, int, int]

_BUFFER: contextvars.ContextVar[list[Point] | None] = contextvars.ContextVar(
    "keel_step_metrics", default=None
)


def log_metric(key: str, value: float, step: int = 0) -> None:
    """Log one metric point to the running step's child run (``step`` is the x-axis, e.g. an epoch)."""
    buffer = _BUFFER.get()
    if buffer is None:
        return
    if not key or not isinstance(key, str):
        raise InvalidInput("a metric needs a non-empty name")
    number = float(value)
    if math.isnan(number):
        raise InvalidInput(f"metric {key!r} is NaN")
    buffer.append((key, number, int(step), int(time.time() * 1000)))


def log_metrics(values: Mapping[str, float], step: int = 0) -> None:
    """Log several metrics at one ``step``."""
    for key, value in values.items():
        log_metric(key, value, step)


def final_metrics(points: list[Point]) -> dict[str, float]:
    """Each key's value at its highest step (the last logged wins a tie): what a run reports as final."""
    best: dict[str, tuple[int, float]] = {}
    for key, value, step, _ in points:
        if key not in best or step >= best[key][0]:
            best[key] = (step, value)
    return {k: v for k, (_, v) in best.items()}


@contextmanager
def collecting() -> Iterator[list[Point]]:
    """Open a buffer for one step call; the points it gathered are in the yielded list."""
    points: list[Point] = []
    token = _BUFFER.set(points)
    try:
        yield points
    finally:
        _BUFFER.reset(token)
