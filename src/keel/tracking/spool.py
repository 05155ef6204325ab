"""The spool: batches (and run ends) waiting on disk for the server to come back.

When the server cannot be reached, the writer appends each batch to a spool
file (JSON lines, one file per writer: ``<spool_dir>/<client id>.jsonl``) in
the same wire shape it sends (``series``: per key, steps, timestamps and
values as columns), and later re-sends them in order -- itself, or
:func:`sync_spool` in a later process (``keel run sync``).

Nothing acknowledged is dropped:

- a batch leaves the file only once the server has stored it (a re-sent batch
  carries its client id and sequence number, so it is stored once);
- a batch the server refuses for good (say, points logged after the run
  ended) is moved, with the reason, to ``<spool_dir>/refused/`` and counted,
  never deleted;
- a run whose process could not send everything is not ended by it: the end
  (status, time, energy) is spooled after the points and replayed after them,
  so the run is marked FINISHED only once its points are stored.

Readers and writers of one file take an exclusive ``flock`` on it, so a
``keel run sync`` never rewrites a file a live writer is appending to.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from keel.core.errors import Conflict, KeelError
from keel.tracking.points import group_by_key

log = logging.getLogger("keel.tracking")

Send = Callable[..., Any]
Series = Mapping[str, tuple[Sequence[int], Sequence[int], Sequence[float]]]
REFUSED_DIR = "refused"


@dataclass
class SyncResult:
    """What a re-send did: points stored, batches still waiting, points the server refused for good."""

    sent: int = 0
    left: int = 0
    refused: int = 0

    def __iadd__(self, other: SyncResult) -> SyncResult:
        self.sent += other.sent
        self.left += other.left
        self.refused += other.refused
        return self


@contextlib.contextmanager
def _locked(path: Path, mode: str) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8") as fh:
        try:
            import fcntl
        except ImportError:  # Windows: one writer per file is all we can promise
            yield fh
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield fh
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def batch_record(run_id: str, client_id: str, seq: int, series: Series) -> dict[str, Any]:
    """A spooled batch: exactly the arguments ``runs.log_batch`` is sent."""
    return {
        "run_id": run_id,
        "client_id": client_id,
        "seq": seq,
        "series": {k: [list(s), list(t), list(v)] for k, (s, t, v) in series.items()},
    }


def end_record(run_id: str, status: str, end_time: datetime, energy_kwh: float | None) -> dict[str, Any]:
    """A spooled run end, replayed once every batch before it is stored."""
    return {
        "run_id": run_id,
        "end": {"status": status, "end_time": end_time.isoformat(), "energy_kwh": energy_kwh},
    }


def append(path: Path, record: Mapping[str, Any]) -> None:
    """Append one record to a spool file (under its lock).

    A sync that emptied the file unlinks it while holding the lock; a writer
    that was waiting then holds an unlinked file, so it opens the path again.
    """
    line = json.dumps(record) + "\n"
    while True:
        with _locked(path, "a") as fh:
            if os.fstat(fh.fileno()).st_nlink == 0:
                continue
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
            return


def _points(record: Mapping[str, Any]) -> int:
    if "series" in record:
        return sum(len(cols[0]) for cols in record["series"].values())
    return len(record.get("metrics") or [])


def _series(record: Mapping[str, Any]) -> dict[str, tuple[list[int], list[int], list[float]]]:
    if "series" in record:
        return {k: (list(s), list(t), list(v)) for k, (s, t, v) in record["series"].items()}
    # files written before the spool took the writer's shape held (key, value, step, ms) tuples
    return group_by_key(tuple(p) for p in record.get("metrics") or [])


def _replay(record: Mapping[str, Any], send: Send, end: Send | None) -> int:
    """Send one record; the points it stored (0 for a run end)."""
    if "end" in record:
        assert end is not None  # resend_file stops before an end it cannot replay
        info = record["end"]
        try:
            end(
                run_id=record["run_id"],
                status=info["status"],
                end_time=datetime.fromisoformat(info["end_time"]),
                energy_kwh=info.get("energy_kwh"),
            )
        except Conflict:
            log.info("keel: run %s was ended meanwhile; its spooled end is not needed", record["run_id"])
        return 0
    send(
        run_id=record["run_id"],
        series=_series(record),
        client_id=record["client_id"],
        seq=record["seq"],
    )
    return _points(record)


class _Later(Exception):
    """This record waits for a later re-send (it needs what this one was not given)."""


def keep_refused(path: Path, record: Mapping[str, Any], error: KeelError) -> None:
    """Move a record the server refused for good to ``refused/``, with the reason."""
    target = path.parent / REFUSED_DIR / path.name
    append(target, {**record, "error": f"{error.code}: {error.message}"})
    log.error(
        "keel: the server refused %d spooled point(s) of run %s: %s (kept in %s)",
        _points(record),
        record["run_id"],
        error,
        target,
    )


def resend_file(path: Path, send: Send, end: Send | None = None) -> SyncResult:
    """Re-send a spool file's records in order; the file goes once every record is stored or kept.

    Stops at the first retryable failure (the server is still away) and keeps
    that record and the rest, in order. A record refused for good is moved to
    ``refused/`` with the reason, never dropped.
    """
    result = SyncResult()
    try:
        opened = _locked(path, "r+")
        fh = opened.__enter__()
    except FileNotFoundError:  # nothing spooled, or another sync finished it
        return result
    with contextlib.ExitStack() as stack:
        stack.push(opened)
        if os.fstat(fh.fileno()).st_nlink == 0:
            return result
        lines = [line for line in fh.read().splitlines() if line.strip()]
        for index, line in enumerate(lines):
            record = json.loads(line)
            try:
                if "end" in record and end is None:  # a writer flushing its own file: sync ends it
                    raise _Later()
                result.sent += _replay(record, send, end)
            except (KeelError, _Later) as exc:
                if isinstance(exc, _Later) or exc.retryable:
                    rest = lines[index:]
                    fh.seek(0)
                    fh.truncate()
                    fh.write("\n".join(rest) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                    result.left = sum(1 for r in rest if "end" not in json.loads(r))
                    return result
                keep_refused(path, record, exc)
                result.refused += _points(record)
        path.unlink(missing_ok=True)  # still under the lock: every record is stored or kept
    return result


def sync_spool(spool_dir: Path, send: Send, end: Send | None = None) -> SyncResult:
    """Re-send every spool file a previous process left (the server is back), oldest writer first."""
    result = SyncResult()
    if not spool_dir.is_dir():
        return result
    for path in sorted(spool_dir.glob("*.jsonl"), key=lambda p: (p.stat().st_mtime, p.name)):
        result += resend_file(path, send, end)
    return result


def refused_points(spool_dir: Path) -> int:
    """Points the server refused for good, kept in ``refused/`` for a person to look at."""
    folder = spool_dir / REFUSED_DIR
    if not folder.is_dir():
        return 0
    total = 0
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                total += _points(json.loads(line))
    return total
