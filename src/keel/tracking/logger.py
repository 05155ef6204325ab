"""Logging that never stalls training: a bounded buffer, a writer thread, a spool file.

``RunLogger.log`` appends ``(key, value, step, timestamp_ms)`` to a deque and
returns (about a microsecond). A daemon thread wakes at least every
``interval`` seconds -- sooner once a batch's worth is waiting -- and sends
everything buffered as one batch through ``send`` (the ``runs.log_batch``
operation, local or remote). Only when the writer falls behind and the buffer
holds ``capacity`` points does ``log`` wait for room (back-pressure): points
are never dropped and memory never grows without bound.

Every batch carries this logger's client id and a sequence number, so a
batch re-sent after a lost answer is stored once. When the server cannot be
reached (a retryable error), batches go to a spool file (JSON lines) in
``spool_dir`` and are re-sent, in order, once it answers again -- by this
logger or by :func:`sync_spool` in a later process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from keel.core.errors import InvalidInput, KeelError
from keel.tracking.points import group_by_key
from keel.tracking.values import check_key, check_value

log = logging.getLogger("keel.tracking")

Point = tuple[str, float, int, int]
Send = Callable[..., Any]

DEFAULT_CAPACITY: Final = 200_000
DEFAULT_BATCH: Final = 50_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


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
        self.sent_points = 0
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
            except Exception:  # never let the writer die; the error is kept for flush()
                log.exception("keel: writing run %s's metrics failed", self.run_id)

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
        if self._spooled:  # keep order: nothing overtakes what waits in the spool
            self._spool(seq, batch)
            return
        try:
            series = {k: (v[0], v[1], v[2]) for k, v in group_by_key(batch).items()}
            self._send(run_id=self.run_id, series=series, client_id=self.client_id, seq=seq)
            self.sent_points += len(batch)
        except KeelError as exc:
            if exc.retryable and self._spool_path is not None:
                log.warning("keel: server unreachable (%s); spooling metrics to %s", exc, self._spool_path)
                self._spool(seq, batch)
            else:
                self.error = exc
                log.error("keel: run %s: %d points not stored: %s", self.run_id, len(batch), exc)

    def _spool(self, seq: int, batch: list[Point]) -> None:
        assert self._spool_path is not None
        self._spool_path.parent.mkdir(parents=True, exist_ok=True)
        record = {"run_id": self.run_id, "client_id": self.client_id, "seq": seq, "metrics": batch}
        with self._spool_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
        self._spooled += 1

    def _resend_spool(self) -> None:
        assert self._spool_path is not None
        sent, left = resend_file(self._spool_path, self._send)
        self.sent_points += sent
        self._spooled = left

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


def resend_file(path: Path, send: Send) -> tuple[int, int]:
    """Re-send the batches of a spool file in order; keep the ones still undelivered.

    Returns (points sent, batches left). A batch the server refuses for good
    (not retryable) is dropped with an error in the log.
    """
    if not path.exists():
        return 0, 0
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sent = 0
    for index, line in enumerate(lines):
        record = json.loads(line)
        try:
            send(
                run_id=record["run_id"],
                metrics=[tuple(p) for p in record["metrics"]],
                client_id=record["client_id"],
                seq=record["seq"],
            )
            sent += len(record["metrics"])
        except KeelError as exc:
            if exc.retryable:
                rest = lines[index:]
                path.write_text("\n".join(rest) + "\n", encoding="utf-8")
                return sent, len(rest)
            log.error("keel: spooled batch of run %s refused: %s", record["run_id"], exc)
    path.unlink(missing_ok=True)
    return sent, 0


def sync_spool(spool_dir: Path, send: Send) -> int:
    """Re-send every spool file a previous process left (server back now); returns points sent."""
    if not spool_dir.is_dir():
        return 0
    return sum(resend_file(path, send)[0] for path in sorted(spool_dir.glob("*.jsonl")))


def checked_step(key: str, step: Any) -> int:
    """The step as an int (0 when None); InvalidInput unless it is an integer."""
    if step is None:
        return 0
    if step.__class__ is int:
        return int(step)
    if isinstance(step, bool) or not hasattr(step, "__index__"):
        raise InvalidInput(f"metric {key!r}: step must be an integer, got {step!r}")
    return int(step)


def checked_points(metrics: Mapping[str, Any], step: Any, timestamp: int | None) -> list[Point]:
    """Points for several metrics at one step, keys and values checked (the hot path: kept lean)."""
    ts = time.time_ns() // 1_000_000 if timestamp is None else int(timestamp)
    if step.__class__ is not int:
        step = checked_step("metrics", step)
    known = _KEYS
    out = []
    for key, value in metrics.items():
        if key not in known:
            check_key(key, "metric key")
            if len(known) < 100_000:
                known.add(key)
        if value.__class__ is not float:
            value = check_value(key, value)
        out.append((key, value, step, ts))
    return out


def checked_point(key: str, value: Any, step: int | None, timestamp: int | None) -> Point:
    """One point with its key, value and step checked, ready for :meth:`RunLogger.log`."""
    if key not in _KEYS:
        check_key(key, "metric key")
        if len(_KEYS) < 100_000:
            _KEYS.add(key)
    if value.__class__ is not float:
        value = check_value(key, value)
    if step.__class__ is not int:
        step = checked_step(key, step)
    return (key, value, step, time.time_ns() // 1_000_000 if timestamp is None else int(timestamp))


_KEYS: set[str] = set()
