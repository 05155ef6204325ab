"""The edge table and the walks over it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from keel.core.ids import new_id
from keel.core.refs import parse_ref
from keel.core.timeutil import utcnow
from keel.store.base import Base, UTCDateTime


class LineageEdge(Base):
    """``src`` --relation--> ``dst``, e.g. ``run:1`` --used--> ``dataset_version:7``."""

    __tablename__ = "lineage_edges"
    __table_args__ = (UniqueConstraint("src", "relation", "dst"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    src: Mapped[str] = mapped_column(String(300))
    relation: Mapped[str] = mapped_column(String(50))
    dst: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Edge(BaseModel):
    """One edge, as the API returns it."""

    src: str
    relation: str
    dst: str


def add_edges(session: Session, edges: Iterable[tuple[str, str, str]]) -> int:
    """Record edges (src, relation, dst) in the caller's transaction; duplicates are ignored."""
    rows = []
    for src, relation, dst in edges:
        parse_ref(src), parse_ref(dst)  # validates both ends
        rows.append({"id": new_id(), "src": src, "relation": relation, "dst": dst, "created_at": utcnow()})
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LineageEdge).values(rows).on_conflict_do_nothing(index_elements=["src", "relation", "dst"])
    session.execute(stmt)
    return len(rows)


def _walk(session: Session, start: str, *, forward: bool, depth: int) -> list[Edge]:
    seen: set[tuple[str, str, str]] = set()
    frontier = {start}
    out: list[Edge] = []
    for _ in range(depth):
        if not frontier:
            break
        column = LineageEdge.src if forward else LineageEdge.dst
        rows = session.execute(
            select(LineageEdge.src, LineageEdge.relation, LineageEdge.dst).where(column.in_(frontier))
        ).all()
        frontier = set()
        for src, relation, dst in rows:
            if (src, relation, dst) in seen:
                continue
            seen.add((src, relation, dst))
            out.append(Edge(src=src, relation=relation, dst=dst))
            frontier.add(dst if forward else src)
    return out


def upstream(session: Session, ref: str, *, depth: int = 10) -> list[Edge]:
    """Edges leading out of ``ref`` to what it used or came from, transitively."""
    return _walk(session, ref, forward=True, depth=depth)


def downstream(session: Session, ref: str, *, depth: int = 10) -> list[Edge]:
    """Edges leading into ``ref`` from what used it, transitively."""
    return _walk(session, ref, forward=False, depth=depth)
