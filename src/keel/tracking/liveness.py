"""No run left RUNNING forever: heartbeats in, silent runs marked KILLED.

Every batch a run's process sends (the SDK's writer sends an empty one every
30 s while nothing is logged) moves ``runs.heartbeat_at`` forward, at most
once per :data:`BEAT_EVERY_S` so concurrent writers rarely touch the run's row.
A RUNNING run whose heartbeat is older than the ``run_heartbeat_timeout_s``
setting (its process was SIGKILLed, its machine lost power) is marked KILLED
the next time anyone reads it or searches its project; MLflow leaves such
runs RUNNING forever. If the process was only asleep (a suspended laptop),
its next heartbeat or point logged after the mark makes the run RUNNING again.

The KILLED run's end time is when the server noticed, so points the dead
process had spooled (logged while it ran) are still accepted; its duration,
and so its cost, run to the last heartbeat, the last moment it is known to
have been alive.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from keel.core.timeutil import utcnow
from keel.tracking.models import RunRow, TagRow
from keel.tracking.write import store_tags

#: Seconds between two heartbeat writes of one run (a batch in between does not write the row).
BEAT_EVERY_S: Final = 5.0
END_REASON_TAG: Final = "keel.end_reason"


def beat(session: Session, row: RunRow, now: datetime | None = None) -> None:
    """Record that a process of this running run is alive (in the caller's transaction).

    A conditional UPDATE, not an ORM change: of many writers sending batches
    at once, the first moves the heartbeat and the others' UPDATE matches no
    row (PostgreSQL re-checks the condition after waiting), so they do not
    queue on the run's row for the rest of their transactions.
    """
    now = now or utcnow()
    due = now - timedelta(seconds=BEAT_EVERY_S)
    if row.heartbeat_at is not None and row.heartbeat_at > due:
        return
    session.execute(
        update(RunRow)
        .where(RunRow.id == row.id, or_(RunRow.heartbeat_at.is_(None), RunRow.heartbeat_at <= due))
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )


def _last_sign_of_life(row: RunRow) -> datetime:
    return max(row.heartbeat_at or row.start_time, row.start_time)


def stale_ids(
    session: Session,
    timeout_s: float,
    *,
    project_id: str | None = None,
    run_ids: Sequence[str] = (),
    now: datetime | None = None,
) -> list[str]:
    """Ids of RUNNING runs (of a project, or among ``run_ids``) silent for longer than ``timeout_s``."""
    if timeout_s <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(seconds=timeout_s)
    query = select(RunRow.id).where(
        RunRow.status == "RUNNING", func.coalesce(RunRow.heartbeat_at, RunRow.start_time) < cutoff
    )
    if project_id is not None:
        query = query.where(RunRow.project_id == project_id)
    if run_ids:
        query = query.where(RunRow.id.in_(list(run_ids)))
    return list(session.execute(query.limit(1000)).scalars())


def mark_killed(
    session: Session, run_ids: Sequence[str], timeout_s: float, now: datetime | None = None
) -> int:
    """Mark these runs KILLED if they are still RUNNING and still silent; returns how many were."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=timeout_s)
    killed = 0
    for row in session.execute(select(RunRow).where(RunRow.id.in_(list(run_ids)))).scalars():
        last = _last_sign_of_life(row)
        if row.status != "RUNNING" or last >= cutoff:
            continue  # a batch arrived meanwhile, or someone ended it
        row.status = "KILLED"
        row.end_time = now
        row.duration = max((last - row.start_time).total_seconds(), 0.0)
        if row.hourly_price is not None:
            row.cost = row.duration / 3600.0 * row.hourly_price
        store_tags(
            session,
            row.id,
            {END_REASON_TAG: f"no heartbeat since {last.isoformat()} (timeout {timeout_s:g} s)"},
        )
        killed += 1
    return killed


def killed_for_silence(session: Session, row: RunRow) -> bool:
    """Whether the server (not a person) marked this run KILLED because its heartbeat stopped.

    Such a run may still be ended by its own process's spooled end, which
    knows the real outcome.
    """
    if row.status != "KILLED":
        return False
    tag = session.get(TagRow, (row.id, END_REASON_TAG))
    return tag is not None and tag.value.startswith("no heartbeat")


def clear_reason(session: Session, row: RunRow) -> None:
    """Forget why the server ended the run (its process ended it after all)."""
    tag = session.get(TagRow, (row.id, END_REASON_TAG))
    if tag is not None:
        session.delete(tag)


def alive_after_all(session: Session, row: RunRow, latest_point_ms: int | None, has_entries: bool) -> bool:
    """Whether a batch for a run the server marked KILLED for silence shows its process is alive.

    Only a live process sends a heartbeat (an empty batch), params or tags,
    or points logged after the run was marked: a dead process's spool holds
    points logged before it died, which was before the server noticed.
    """
    if not killed_for_silence(session, row):
        return False
    end = row.end_time.timestamp() * 1000 if row.end_time is not None else None
    heartbeat = latest_point_ms is None and not has_entries
    return (
        heartbeat
        or has_entries
        or (latest_point_ms is not None and end is not None and latest_point_ms > end)
    )


def revive(session: Session, row: RunRow) -> None:
    """Undo a KILLED-for-silence mark: the run is RUNNING again (a laptop that slept, say)."""
    clear_reason(session, row)
    row.status = "RUNNING"
    row.end_time = None
    row.duration = None
    row.cost = None
    row.heartbeat_at = utcnow()
