"""References: which owner (``run:<id>``, ``project:<id>``...) keeps which object. The GC roots.

Every capability that keeps an object writes a reference here, in its own
transaction, after the objects are synced; removing the owner's references
lets gc reclaim what nothing else reaches. The table belongs to the storage
layer so that no capability reads another's tables to find live objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import String, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from keel.artifacts.digest import check_digest, check_digests
from keel.core.refs import parse_ref
from keel.core.timeutil import utcnow
from keel.store.base import Base, UTCDateTime


class ArtifactRef(Base):
    """Object ``digest`` is kept by ``owner`` (a typed reference) since ``created_at``."""

    __tablename__ = "artifact_refs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


def _check_owner(owner: str) -> str:
    parse_ref(owner)
    return owner


def add_refs(session: Session, refs: Iterable[tuple[str, str]]) -> None:
    """Record (digest, owner) references in the caller's transaction; existing ones are kept as they are."""
    now = utcnow()
    rows = {
        (check_digest(digest), _check_owner(owner)): {"digest": digest, "owner": owner, "created_at": now}
        for digest, owner in refs
    }
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = list(rows.values())
    for start in range(0, len(values), 500):
        stmt = insert(ArtifactRef).values(values[start : start + 500])
        session.execute(stmt.on_conflict_do_nothing(index_elements=["digest", "owner"]))


def remove_refs(session: Session, owner: str, digests: Iterable[str] | None = None) -> int:
    """Drop ``owner``'s references (all, or those to ``digests``); returns how many went."""
    _check_owner(owner)
    stmt = delete(ArtifactRef).where(ArtifactRef.owner == owner)
    if digests is not None:
        wanted = check_digests(digests)
        if not wanted:
            return 0
        stmt = stmt.where(ArtifactRef.digest.in_(wanted))
    result = session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def refs_of(session: Session, owner: str) -> list[ArtifactRef]:
    """``owner``'s references, oldest first."""
    _check_owner(owner)
    query = select(ArtifactRef).where(ArtifactRef.owner == owner)
    return list(session.execute(query.order_by(ArtifactRef.created_at, ArtifactRef.digest)).scalars())


def owners_of(session: Session, digests: Iterable[str]) -> dict[str, set[str]]:
    """For each of ``digests``, the owners that reference it directly."""
    wanted = check_digests(digests)
    found: dict[str, set[str]] = {d: set() for d in wanted}
    for start in range(0, len(wanted), 500):
        query = select(ArtifactRef.digest, ArtifactRef.owner).where(
            ArtifactRef.digest.in_(wanted[start : start + 500])
        )
        for digest, owner in session.execute(query):
            found[digest].add(owner)
    return found


def referenced_digests(session: Session) -> set[str]:
    """Every directly referenced digest: the gc roots."""
    return {str(d) for d in session.execute(select(ArtifactRef.digest).distinct()).scalars()}
