"""Adaptive micro-batching: concurrent requests to one version merged into one ``predict``, split back.

A request waits at most ``wait_s`` for others to join it; the merged batch
never exceeds ``max_rows`` rows (it runs as soon as it is full), and a
request of ``max_rows`` rows or more runs alone at once. Only requests that
look alike merge (the same loaded version, the same columns or tensor shape);
a request that differs runs what is waiting first, so answers keep their
order. Everything happens on the worker's event loop: a request costs an
append and a future, and the model's per-call overhead (input conversion,
validation inside the estimator) is paid once per batch instead of once per
request. If a merged batch fails, each request is retried alone, so one bad
request cannot fail the others that shared its batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from keel.core.errors import InvalidInput
from keel.serving.inputs import Batch
from keel.serving.loader import Served


@dataclass
class _Waiting:
    served: Served
    batch: Batch
    future: asyncio.Future[np.ndarray]


def _shape(served: Served, batch: Batch) -> tuple[Any, ...]:
    if batch.tensor is not None:
        return id(served), "tensor", batch.tensor.shape[1:], batch.tensor.dtype.kind
    return id(served), tuple(batch.columns), tuple(a.dtype.kind for a in batch.columns.values())


def merge(batches: list[Batch]) -> Batch:
    """One batch holding every row of ``batches`` (alike: same columns, or tensors of one row shape)."""
    first = batches[0]
    if first.tensor is not None:
        return Batch(tensor=np.concatenate([b.tensor for b in batches if b.tensor is not None]))
    return Batch(columns={name: np.concatenate([b.columns[name] for b in batches]) for name in first.columns})


class Batcher:
    """Merges concurrent ``predict`` calls on one event loop; ``max_rows <= 1`` turns merging off."""

    def __init__(
        self, max_rows: int = 1, wait_s: float = 0.002, observe: Callable[[int], None] | None = None
    ) -> None:
        if isinstance(max_rows, bool) or max_rows < 1:
            raise InvalidInput(f"batch_max is {max_rows}; it must be at least 1 (1: no merging)")
        if not 0 <= wait_s <= 1:
            raise InvalidInput(f"batch_wait_ms is {wait_s * 1000:g}; it must be from 0 to 1000")
        self.max_rows, self.wait_s = max_rows, wait_s
        self.observe = observe or (lambda rows: None)
        self.waiting: list[_Waiting] = []
        self.rows = 0
        self.key: tuple[Any, ...] | None = None
        self.timer: asyncio.TimerHandle | None = None

    async def predict(self, served: Served, batch: Batch) -> np.ndarray:
        """``served``'s answer to ``batch``, possibly computed together with other callers' rows."""
        rows = batch.rows
        if self.max_rows <= 1 or rows >= self.max_rows:
            self.observe(rows)
            return np.asarray(served.predict(batch))
        key = _shape(served, batch)
        if self.waiting and (key != self.key or self.rows + rows > self.max_rows):
            self.flush()
        loop = asyncio.get_running_loop()
        waiting = _Waiting(served, batch, loop.create_future())
        self.waiting.append(waiting)
        self.rows += rows
        self.key = key
        if self.rows >= self.max_rows:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.wait_s, self.flush)
        return await waiting.future

    def flush(self) -> None:
        """Run what is waiting now, as one ``predict``, and hand each caller its rows."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        waiting, self.waiting, self.rows, self.key = self.waiting, [], 0, None
        if not waiting:
            return
        served = waiting[0].served
        self.observe(sum(w.batch.rows for w in waiting))
        try:
            answers = np.asarray(served.predict(merge([w.batch for w in waiting])))
        except Exception as exc:
            if len(waiting) == 1:
                if not waiting[0].future.done():
                    waiting[0].future.set_exception(exc)
                return
            for w in waiting:  # one bad request must not fail the others
                self._answer_alone(w)
            return
        offsets = np.cumsum([w.batch.rows for w in waiting])[:-1]
        for w, part in zip(waiting, np.split(answers, offsets), strict=True):
            if not w.future.done():
                w.future.set_result(part)

    @staticmethod
    def _answer_alone(w: _Waiting) -> None:
        try:
            result = np.asarray(w.served.predict(w.batch))
        except Exception as exc:
            if not w.future.done():
                w.future.set_exception(exc)
            return
        if not w.future.done():
            w.future.set_result(result)
