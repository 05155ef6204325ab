"""Logging that never stalls training: a bounded buffer, a writer thread, a spool file.

``RunLogger.log`` appends ``(key, value, step, timestamp_ms)`` to a deque and
returns (about a microsecond). A daemon thread wakes at least every
``interval`` seconds -- sooner once a batch's worth is waiting -- and sends
everything buffered as one batch through ``send`` (the ``runs.log_batch``
operation, local or remote), as columns per key (``series``). Only when the
writer falls behind and the buffer holds ``capacity`` points does ``log``
wait for room (back-pressure): points are never dropped and memory never
grows without bound.

Every batch carries this logger's client id and a sequence number, so a
batch re-sent after a lost answer is stored once. When the server cannot be
reached (a retryable error), batches go to a spool file
(:mod:`keel.tracking.spool`) and are re-sent, in order, once it answers again
-- by this logger or by ``keel run sync`` in a later process. A batch the
server finds too large is split in two and sent again. While nothing is
logged the writer still sends an empty batch every ``HEARTBEAT_S`` seconds:
the server marks a run whose heartbeat stops KILLED (its process died).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from keel.core.errors import InvalidInput, KeelError, PayloadTooLarge
from keel.tracking import spool
from keel.tracking.points import group_by_key
from keel.tracking.values import Point

log = logging.getLogger("keel.tracking")

Send = Callable[..., Any]

DEFAULT_CAPACITY: Final = 200_000
DEFAULT_BATCH: Final = 50_000
#: Seconds between heartbeats of a run that logs nothing (the server's timeout is far longer).
HEARTBEAT_S: Final = 30.0


class RunLogger:
    """The buffer and writer thread of one run in one process."""

    def __init__(
        self,
        run_id: str,
        send: Send,
        *,
        capacity: int = DEFAULT_CAPACITY,
        batch_size: int = DEFAULT_BATCH,
        interval: float = 1.0,
        spool_dir: Path | None = None,
    ) -> None:
        if capacity < 1 or batch_size < 1 or not 0 < interval <= 1.0:
            raise InvalidInput("logger needs capacity >= 1, batch_size >= 1 and 0 < interval <= 1 s")
        self.run_id = run_id
        self.client_id = uuid.uuid4().hex
        self._send = send
        self._buf: deque[Point] = deque()
        self._capacity = capacity
        self._batch = min(batch_size, capacity)
        self._interval = interval
        self._seq = 0
        self._wake = threading.Event()
        self._room = threading.Event()
        self._stop = False
        self._drain_lock = threading.RLock()  # a SIGTERM handler may flush mid-drain
        self._spool_path = spool_dir / f"{self.client_id}.jsonl" if spool_dir else None
        self._spooled = 0
        self._last_contact = time.monotonic()
        self.sent_points = 0
        #: Points the server refused for good (kept under ``refused/`` in the spool folder).
        self.refused_points = 0
        self.error: KeelError | None = None
        self._thread = threading.Thread(target=self._run, name=f"keel-writer-{run_id[-6:]}", daemon=True)
        self._thread.start()

    # -- the hot path -------------------------------------------------------------------------
    def log(self, key: str, value: float, step: int, timestamp: int) -> None:
        """Buffer one point; waits only while the buffer is full."""
        buf = self._buf
        if len(buf) >= self._batch:
            self._wake.set()
            if len(buf) >= self._capacity:
                self._wait_for_room()
        buf.append((key, value, step, timestamp))

    def log_many(self, points: list[Point]) -> None:
        """Buffer several points (already checked) at once."""
        buf = self._buf
        if len(buf) + len(points) >= self._batch:
            self._wake.set()
            if len(buf) + len(points) > self._capacity:
                for point in points:  # one at a time, each waiting for room
                    self.log(*point)
                return
        buf.extend(points)

    def _wait_for_room(self) -> None:
        while len(self._buf) >= self._capacity and not self._stop:
            self._room.clear()
            self._wake.set()
            self._room.wait(0.05)

    @property
    def pending(self) -> int:
        """Points buffered and not yet sent (or spooled)."""
        return len(self._buf)

    @property
    def spooled(self) -> int:
        """Batches waiting in the spool file for the server to come back."""
        return self._spooled

    # -- the writer -----------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.drain()
                if time.monotonic() - self._last_contact >= HEARTBEAT_S:
                    self._heartbeat()
            except Exception:  # never let the writer die; the error is kept for flush()
                log.exception("keel: writing run %s's metrics failed", self.run_id)

    def _heartbeat(self) -> None:
        """An empty batch: tells the server this run's process is alive."""
        self._last_contact = time.monotonic()
        try:
            self._send(run_id=self.run_id)
        except KeelError as exc:
            log.debug("keel: heartbeat of run %s failed: %s", self.run_id, exc)

    def drain(self) -> int:
        """Send everything buffered now, batch by batch; returns the points sent or spooled."""
        total = 0
        with self._drain_lock:
            if self._spooled:
                self._resend_spool()
            buf = self._buf
            while buf:
                n = min(len(buf), self._batch)
                batch = [buf.popleft() for _ in range(n)]
                self._room.set()
                self._seq += 1
                self._deliver(self._seq, batch)
                total += n
        return total

    def _deliver(self, seq: int, batch: list[Point]) -> None:
        series = group_by_key(batch)
        if self._spooled:  # keep order: nothing overtakes what waits in the spool
            self._spool(seq, series)
            return
        try:
            self._send(run_id=self.run_id, series=series, client_id=self.client_id, seq=seq)
            self.sent_points += len(batch)
            self._last_contact = time.monotonic()
        except PayloadTooLarge:
            if len(batch) < 2:
                raise
            half = len(batch) // 2  # the server takes less than this logger's batch: send halves
            self._seq += 1
            self._deliver(self._seq, batch[:half])
            self._seq += 1
            self._deliver(self._seq, batch[half:])
        except KeelError as exc:
            if exc.retryable and self._spool_path is not None:
                log.warning("keel: server unreachable (%s); spooling metrics to %s", exc, self._spool_path)
                self._spool(seq, series)
                return
            self.error = exc
            if self._spool_path is not None:
                record = spool.batch_record(self.run_id, self.client_id, seq, series)
                spool.keep_refused(self._spool_path, record, exc)
                self.refused_points += len(batch)
            else:
                log.error("keel: run %s: %d points not stored: %s", self.run_id, len(batch), exc)

    def _spool(self, seq: int, series: spool.Series) -> None:
        assert self._spool_path is not None
        spool.append(self._spool_path, spool.batch_record(self.run_id, self.client_id, seq, series))
        self._spooled += 1

    def _resend_spool(self) -> None:
        assert self._spool_path is not None
        result = spool.resend_file(self._spool_path, self._send)
        self.sent_points += result.sent
        self.refused_points += result.refused
        self._spooled = result.left
        if result.sent:
            self._last_contact = time.monotonic()

    def spool_end(self, status: str, end_time: datetime, energy_kwh: float | None) -> Path:
        """Spool the run's end after its waiting batches (``keel run sync`` replays both, in order)."""
        assert self._spool_path is not None
        spool.append(self._spool_path, spool.end_record(self.run_id, status, end_time, energy_kwh))
        return self._spool_path

    @property
    def spool_path(self) -> Path | None:
        """Where this logger spools (None when it has no spool folder)."""
        return self._spool_path

    # -- lifecycle ------------------------------------------------------------------------------
    def flush(self) -> None:
        """Send everything logged so far; raise the first error the writer met, if any."""
        self.drain()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def close(self) -> None:
        """Flush and stop the writer thread."""
        self._stop = True
        self._wake.set()
        self._room.set()
        self._thread.join(timeout=10)
        self.flush()
