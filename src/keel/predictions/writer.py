"""The prediction log's writer: a bounded buffer filled on the request path, flushed by one thread.

The shape of :mod:`keel.tracking.logger`: the model server's request path
only appends an entry (one uncontended lock and a list append; no copy, no
I/O); a background thread turns what has gathered into one Parquet segment
every ``flush_s`` seconds, or sooner once ``segment_rows`` rows wait, and
writes the object, its index rows and its segment row (one transaction, the
object synced before it commits). :meth:`PredictionLog.close` flushes what
is left, so a server stopped by SIGTERM loses nothing it answered. When the
database is unreachable the entries are kept for the next flush up to
``max_pending`` rows; beyond that new entries are dropped and counted, so
logging can never grow memory without bound or slow the answers down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from keel.context import Context
from keel.core.ids import new_id
from keel.core.timeutil import utcnow
from keel.predictions.models import PredictionRow, SegmentRow
from keel.predictions.segment import Logged, encode, to_tables

log = logging.getLogger("keel.predictions")


class PredictionLog:
    """The log of one deployment in one server process; ``record`` is safe from any thread."""

    def __init__(
        self,
        ctx: Context,
        deployment: str,
        *,
        flush_s: float = 2.0,
        segment_rows: int = 10_000,
        max_pending: int = 200_000,
        sensitive: Sequence[str] = (),
    ) -> None:
        self.ctx, self.deployment = ctx, deployment
        self.flush_s, self.segment_rows, self.max_pending = flush_s, segment_rows, max_pending
        self.sensitive = frozenset(sensitive)
        self.pending: list[Logged] = []
        self.pending_rows = 0
        self.written = 0  # rows in committed segments
        self.dropped = 0  # rows not logged because the buffer was full
        self.segments = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._owner: tuple[str, str] | None = None  # (project id, deployment id)

    # --- the request path -------------------------------------------------------------------

    def record(self, entry: Logged) -> None:
        """Queue one answered request (drops it, counting, when ``max_pending`` rows already wait)."""
        rows = entry.rows
        with self._lock:
            if self.pending_rows + rows > self.max_pending:
                self.dropped += rows
                return
            self.pending.append(entry)
            self.pending_rows += rows
            full = self.pending_rows >= self.segment_rows
        if full:
            self._wake.set()

    # --- the flusher -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the flushing thread (a daemon: :meth:`close` is what flushes at shutdown)."""
        self._thread = threading.Thread(target=self._run, name="keel-prediction-log", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            if not self._stopped.is_set():
                self.flush()

    def close(self) -> None:
        """Stop the thread and write everything still buffered."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush()

    def flush(self) -> int:
        """Write what is buffered now as segments; returns the rows written (0 on failure, kept to retry)."""
        with self._flush_lock:
            with self._lock:
                entries, self.pending, rows = self.pending, [], self.pending_rows
                self.pending_rows = 0
            if not entries:
                return 0
            try:
                for table in to_tables(entries, self.sensitive):
                    self._write(table)
            except Exception:
                self.failures += 1
                log.exception(
                    "could not write %d logged predictions of %s; will retry", rows, self.deployment
                )
                with self._lock:
                    room = self.max_pending - self.pending_rows
                    if rows <= room:
                        self.pending[:0] = entries
                        self.pending_rows += rows
                    else:
                        self.dropped += rows
                return 0
            self.written += rows
            return rows

    def _write(self, table: pa.Table) -> None:
        from keel.artifacts.references import add_refs

        project_id, deployment_id = self._owner or self._find_owner()
        digest = self.ctx.artifacts.put_bytes(encode(table))
        self.ctx.artifacts.sync()
        first, last = pc.min_max(table.column("at")).values()
        segment_id = new_id()
        rows: list[dict[str, Any]] = [
            {"segment_id": segment_id, "position": i, "deployment": self.deployment, "request_id": request_id}
            for i, request_id in enumerate(table.column("request_id").to_pylist())
        ]
        with self.ctx.store.write() as session:
            session.add(
                SegmentRow(
                    id=segment_id,
                    project_id=project_id,
                    deployment=self.deployment,
                    digest=digest,
                    rows=table.num_rows,
                    first_at=_utc(first.as_py()),
                    last_at=_utc(last.as_py()),
                    created_at=utcnow(),
                )
            )
            session.flush()
            self.ctx.store.insert_many(session, PredictionRow.__table__, rows)  # type: ignore[arg-type]
            add_refs(session, [(digest, f"deployment:{deployment_id}")], project_id=project_id)
        self.segments += 1

    def _find_owner(self) -> tuple[str, str]:
        from keel.predictions.owner import deployment_owner

        self._owner = deployment_owner(self.ctx, self.deployment)
        return self._owner


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
