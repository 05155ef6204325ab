"""Storing one logging batch: metric points, params and tags, in one transaction.

Points go through ``Store.insert_many`` (executemany on SQLite, COPY on
PostgreSQL), packed one chunk per key (:mod:`keel.tracking.points`); the final value of each key is upserted into
``run_latest_metrics`` only where the new point is later (higher step, or
the same step and a timestamp at least as late). A batch carrying a client id
and sequence number is recorded in ``run_batches`` first: if that pair is
there already the batch was stored before and is skipped whole.

A batch may be as wide as the API allows (:data:`MAX_BATCH_POINTS` points,
:data:`MAX_BATCH_ENTRIES` params plus tags): many rows are written by one
single-row statement executed many times, and ``IN`` lists are cut into
pieces under the driver's bound-parameter limit (32,766 on SQLite, 65,535 on
psycopg), so width is never mistaken for an outage.

An ended run still takes points that were logged while it ran (timestamps
up to its end): a spool re-sent after the run ended, or after the server
marked it KILLED, loses nothing it acknowledged. Anything else is a Conflict.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from keel.core.errors import Conflict, InvalidInput, PayloadTooLarge
from keel.store.engine import Store
from keel.tracking.models import BatchRow, LatestMetricRow, ParamRow, RunRow, TagRow, metric_chunks
from keel.tracking.points import FORMAT, group_by_key, pack
from keel.tracking.values import check_int64, check_key, check_text, decode_param, encode_param

#: Most metric points one batch may carry (the SDK's writer sends at most 50,000).
MAX_BATCH_POINTS: Final = 100_000
#: Most params plus tags one batch may carry.
MAX_BATCH_ENTRIES: Final = 10_000
#: Bound parameters per statement when the driver's own limit is unknown (SQLite's default).
_SQLITE_PARAMS: Final = 32_766
_POSTGRES_PARAMS: Final = 65_535


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def max_params(session: Session) -> int:
    """How many bound parameters one statement may carry on this session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return _POSTGRES_PARAMS
    raw = session.connection().connection.driver_connection
    getlimit = getattr(raw, "getlimit", None)  # Python >= 3.11
    if getlimit is None:
        return 999  # the oldest SQLite builds' limit
    import sqlite3

    return int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def chunks(session: Session, rows: Sequence[Any], per_row: int, reserve: int = 0) -> Iterator[Sequence[Any]]:
    """``rows`` in pieces whose ``per_row`` parameters each (plus ``reserve``) fit one statement."""
    size = max(1, (max_params(session) - reserve) // per_row)
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def check_batch_size(points: int, entries: int) -> None:
    """PayloadTooLarge naming the limit when a batch is wider than the API takes."""
    if points > MAX_BATCH_POINTS:
        raise PayloadTooLarge(
            f"a batch may carry at most {MAX_BATCH_POINTS:,} metric points; this one has {points:,}",
            hint="send it as several batches (the SDK's writer does)",
        )
    if entries > MAX_BATCH_ENTRIES:
        raise PayloadTooLarge(
            f"a batch may carry at most {MAX_BATCH_ENTRIES:,} params and tags; this one has {entries:,}",
            hint="send them as several batches",
        )


def end_ms(row: RunRow) -> int | None:
    """The run's end in Unix ms, or None while it runs."""
    if row.end_time is None:
        return None
    return int(row.end_time.timestamp() * 1000)


def check_can_log(row: RunRow, *, latest_point_ms: int | None, has_entries: bool) -> None:
    """Conflict unless the run takes this batch.

    A running run takes anything. An ended run takes metric points logged
    while it ran (every timestamp at or before its end) and nothing else:
    params and tags need it resumed.
    """
    if row.status == "RUNNING":
        return
    end = end_ms(row)
    late = latest_point_ms is not None and (end is None or latest_point_ms > end)
    if has_entries or late:
        what = "params or tags" if has_entries else f"a point logged at {latest_point_ms} ms, after its end"
        raise Conflict(
            f"run {row.id} is {row.status} (ended at {end} ms); it takes only points logged before "
            f"its end, and this batch has {what}",
            hint="resume it with keel.start_run(run_id=...) to log more",
        )


def claim_batch(session: Session, run_id: str, client_id: str, seq: int) -> bool:
    """Record (client id, seq); False when it was recorded before (the batch is a re-send)."""
    stmt = (
        _insert(session)(BatchRow)
        .values(run_id=run_id, client_id=client_id, seq=seq)
        .on_conflict_do_nothing(index_elements=["run_id", "client_id", "seq"])
        .returning(BatchRow.seq)
    )
    return session.execute(stmt).first() is not None


def store_params(session: Session, store: Store, run_id: str, params: Mapping[str, Any]) -> int:
    """Add params; the same value again is a no-op, a different one is InvalidInput naming both."""
    if not params:
        return 0
    encoded = {check_key(k, "param key"): encode_param(k, v) for k, v in params.items()}
    existing: dict[str, tuple[str, str]] = {}
    for keys in chunks(session, list(encoded), 1, reserve=1):
        existing.update(
            (key, (kind, text))
            for key, kind, text in session.execute(
                select(ParamRow.key, ParamRow.kind, ParamRow.value).where(
                    ParamRow.run_id == run_id, ParamRow.key.in_(keys)
                )
            )
        )
    rows = []
    for key, (kind, text, number) in encoded.items():
        if key in existing:
            if existing[key] != (kind, text):
                old = decode_param(*existing[key])
                raise InvalidInput(
                    f"param {key!r} of run {run_id} is {old!r} already; cannot change it to "
                    f"{decode_param(kind, text)!r}",
                    hint="params are immutable within a run; start a new run for new values",
                )
            continue
        rows.append({"run_id": run_id, "key": key, "kind": kind, "value": text, "value_num": number})
    store.insert_many(session, ParamRow.__table__, rows)  # type: ignore[arg-type]
    return len(rows)


def store_tags(session: Session, run_id: str, tags: Mapping[str, str]) -> int:
    """Set tags (a tag may change; the last value wins)."""
    if not tags:
        return 0
    rows = [
        {"run_id": run_id, "key": check_key(k, "tag key"), "value": check_text(str(v), f"tag {k!r}")}
        for k, v in tags.items()
    ]
    stmt = _insert(session)(TagRow.__table__)
    stmt = stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": stmt.excluded.value})
    session.execute(stmt, rows)  # executemany: any number of tags, one compiled statement
    return len(rows)


def store_points(
    session: Session,
    store: Store,
    run_id: str,
    points: Sequence[tuple[str, float, int, int]],
    series: Mapping[str, tuple[Sequence[int], Sequence[int], Sequence[float]]] | None = None,
) -> int:
    """Append metric points (one packed chunk per key) and move each key's final value forward.

    ``points`` are (key, value, step, timestamp) tuples; ``series`` the same
    points by key as columns (steps, timestamps, values), which is what the
    SDK's writer sends because it is cheaper to parse and validate.
    """
    groups: dict[str, tuple[Sequence[int], Sequence[int], Sequence[float]]] = dict(group_by_key(points))
    for key, (s_steps, s_times, s_values) in (series or {}).items():
        if not len(s_steps) == len(s_times) == len(s_values):
            raise InvalidInput(
                f"metric {key!r}: series needs as many steps, timestamps and values "
                f"(got {len(s_steps)}, {len(s_times)}, {len(s_values)})"
            )
        if key in groups:
            old = groups[key]
            groups[key] = ([*old[0], *s_steps], [*old[1], *s_times], [*old[2], *s_values])
        else:
            groups[key] = (s_steps, s_times, s_values)
    if not groups:
        return 0
    rows = []
    latest: dict[str, tuple[int, int, float | None]] = {}
    total = 0
    for key, (steps, timestamps, values) in groups.items():
        check_key(key, "metric key")
        if not steps:
            continue
        check_int64(min(steps), f"metric {key!r}: step")
        check_int64(max(steps), f"metric {key!r}: step")
        check_int64(min(timestamps), f"metric {key!r}: timestamp")
        check_int64(max(timestamps), f"metric {key!r}: timestamp")
        total += len(steps)
        rows.append(
            {
                "run_id": run_id,
                "key": key,
                "first_step": min(steps),
                "last_step": max(steps),
                "count": len(steps),
                "fmt": FORMAT,
                "data": pack(steps, timestamps, values),
            }
        )
        best = max(range(len(steps)), key=lambda i: (steps[i], timestamps[i], i))
        value = values[best]
        latest[key] = (steps[best], timestamps[best], None if math.isnan(value) else value)
    store.insert_many(session, metric_chunks, rows)
    _move_latest(session, run_id, latest)
    return total


def _move_latest(session: Session, run_id: str, latest: Mapping[str, tuple[int, int, float | None]]) -> None:
    """Upsert each key's final value where the new point is later.

    One single-row statement executed for many rows (``executemany``): its
    parameters never approach the driver's limit however wide the batch,
    and it is compiled once instead of as one huge VALUES list.
    """
    table = LatestMetricRow.__table__
    values = [
        {"run_id": run_id, "key": k, "value": v, "step": s, "timestamp": t}
        for k, (s, t, v) in sorted(latest.items())
    ]
    stmt = _insert(session)(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": stmt.excluded.value, "step": stmt.excluded.step, "timestamp": stmt.excluded.timestamp},
        where=or_(
            stmt.excluded.step > table.c.step,
            and_(stmt.excluded.step == table.c.step, stmt.excluded.timestamp >= table.c.timestamp),
        ),
    )
    session.execute(stmt, values)
