"""``Store.insert_many``, the batch write primitive: every value comes back as written, on SQLite
(executemany) and on PostgreSQL, where the COPY branch must be the one taken (issue 10.13: the old
test only counted rows, so a COPY that garbled values or was never reached passed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

from keel.core.ids import new_id
from keel.lineage.graph import LineageEdge
from keel.store.engine import Store
from keel.tracking.models import metric_chunks

#: Text COPY must escape: its delimiters, escapes and line breaks, quotes, NUL's neighbours, any Unicode.
AWKWARD = [
    "plain",
    "tab\there",
    "new\nline",
    "back\\slash",
    "\\N",
    "quote'\"",
    "ünï😀",
    "comma,semi;",
    "\r\n",
    " ",
]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "sqlite":
        url = request.getfixturevalue("keel_workspace").db_url
    else:
        url = request.getfixturevalue("postgres_url")
    store = Store(url)
    yield store
    store.dispose()


def _statements(store: Store) -> list[str]:
    """Every statement SQLAlchemy sends from now on (COPY goes to the driver directly, so it is not among them)."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.strip())

    return seen


def test_every_value_comes_back_as_written(store: Store) -> None:
    tag = f"t{datetime.now(UTC).timestamp()}"
    base = datetime(2026, 11, 29, 12, 0, 0, 123456, tzinfo=UTC)
    rows = [
        {
            "id": new_id(),
            "src": f"run:{tag}:{value}",
            "relation": f"rel{i}",
            "dst": f"dataset:{value}:{i}",
            "created_at": base + timedelta(microseconds=i),
        }
        for i, value in enumerate(AWKWARD)
    ]
    shuffled = [
        {k: row[k] for k in ("dst", "created_at", "id", "relation", "src")} for row in rows
    ]  # any key order
    seen = _statements(store)
    with store.write() as session:
        store.insert_many(session, LineageEdge.__table__, shuffled)  # type: ignore[arg-type]
    inserts = [s for s in seen if s.upper().startswith("INSERT") and "lineage_edges" in s]
    if store.engine.dialect.name == "postgresql":
        assert inserts == []  # the rows went by COPY, not by INSERT
    else:
        assert len(inserts) == 1  # one executemany statement
    with store.read() as session:
        got = session.execute(
            select(
                LineageEdge.id, LineageEdge.src, LineageEdge.relation, LineageEdge.dst, LineageEdge.created_at
            )
            .where(LineageEdge.src.startswith(f"run:{tag}:"))
            .order_by(LineageEdge.relation)
        ).all()
    want = sorted(
        [(r["id"], r["src"], r["relation"], r["dst"], r["created_at"]) for r in rows], key=lambda r: r[2]
    )
    assert [tuple(g) for g in got] == want


def test_bytes_and_wide_integers_survive(store: Store) -> None:
    run_id = f"01RUN{datetime.now(UTC).strftime('%H%M%S%f')}"[:26]
    blob = bytes(range(256)) * 3 + b"\\x00\\N\t\n"
    rows = [
        {
            "run_id": run_id,
            "key": "loss",
            "first_step": 2**62,
            "last_step": 2**63 - 1,
            "count": 2**31 - 1,
            "fmt": 3,
            "data": blob,
        },
        {
            "run_id": run_id,
            "key": "acc/val",
            "first_step": -5,
            "last_step": 0,
            "count": 0,
            "fmt": 0,
            "data": b"",
        },
    ]
    with store.write() as session:
        store.insert_many(session, metric_chunks, rows)
    c = metric_chunks.c
    with store.read() as session:
        got = session.execute(
            select(c.key, c.first_step, c.last_step, c.count, c.fmt, c.data)
            .where(c.run_id == run_id)
            .order_by(c.key)
        ).all()
    assert [(k, f, la, n, fmt, bytes(d)) for k, f, la, n, fmt, d in got] == [
        ("acc/val", -5, 0, 0, 0, b""),
        ("loss", 2**62, 2**63 - 1, 2**31 - 1, 3, blob),
    ]


def test_no_rows_sends_nothing(store: Store) -> None:
    seen = _statements(store)
    with store.write() as session:
        store.insert_many(session, LineageEdge.__table__, [])  # type: ignore[arg-type]
        session.execute(text("SELECT 1"))
    assert not [s for s in seen if "lineage_edges" in s]


def test_a_batch_of_one_row(store: Store) -> None:
    """The column list is read from the rows themselves: one row is enough."""
    edge = {
        "id": new_id(),
        "src": "run:one",
        "relation": "used",
        "dst": "dataset:one",
        "created_at": datetime.now(UTC),
    }
    with store.write() as session:
        store.insert_many(session, LineageEdge.__table__, [edge])  # type: ignore[arg-type]
    with store.read() as session:
        got = session.execute(
            select(LineageEdge.src, LineageEdge.dst).where(LineageEdge.id == edge["id"])
        ).one()
    assert tuple(got) == ("run:one", "dataset:one")
