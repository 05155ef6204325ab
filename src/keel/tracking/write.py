"""Storing one logging batch: metric points, params and tags, in one transaction.

Points go through ``Store.insert_many`` (executemany on SQLite, COPY on
PostgreSQL), packed one chunk per key (:mod:`keel.tracking.points`); the final value of each key is upserted into
``run_latest_metrics`` only where the new point is later (higher step, or
the same step and a timestamp at least as late). A batch carrying a client id
and sequence number is recorded in ``run_batches`` first: if that pair is
there already the batch was stored before and is skipped whole.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from keel.core.errors import Conflict, InvalidInput
from keel.store.engine import Store
from keel.tracking.models import BatchRow, LatestMetricRow, ParamRow, RunRow, TagRow, metric_chunks
from keel.tracking.points import FORMAT, group_by_key, pack
from keel.tracking.values import check_key, decode_param, encode_param


def _insert(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def check_running(row: RunRow) -> None:
    """Conflict unless the run is running: a finished run takes no more points until resumed."""
    if row.status != "RUNNING":
        raise Conflict(
            f"run {row.id} is {row.status}; it takes no more logging",
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
    existing = {
        key: (kind, text)
        for key, kind, text in session.execute(
            select(ParamRow.key, ParamRow.kind, ParamRow.value).where(
                ParamRow.run_id == run_id, ParamRow.key.in_(list(encoded))
            )
        )
    }
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
    rows = [{"run_id": run_id, "key": check_key(k, "tag key"), "value": str(v)} for k, v in tags.items()]
    stmt = _insert(session)(TagRow).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=["run_id", "key"], set_={"value": stmt.excluded.value})
    session.execute(stmt)
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
    insert = _insert(session)
    stmt = insert(LatestMetricRow).values(
        [
            {"run_id": run_id, "key": k, "value": v, "step": s, "timestamp": t}
            for k, (s, t, v) in sorted(latest.items())
        ]
    )
    table = LatestMetricRow.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "key"],
        set_={"value": stmt.excluded.value, "step": stmt.excluded.step, "timestamp": stmt.excluded.timestamp},
        where=or_(
            stmt.excluded.step > table.c.step,
            and_(stmt.excluded.step == table.c.step, stmt.excluded.timestamp >= table.c.timestamp),
        ),
    )
    session.execute(stmt)
    return total
