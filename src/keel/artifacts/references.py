"""References: which owner (``run:<id>``, ``project:<id>``...) keeps which object. The GC roots.

Every capability that keeps an object writes a reference here, in its own
transaction, after the objects are synced; removing the owner's references
lets gc reclaim what nothing else reaches. The table belongs to the storage
layer so that no capability reads another's tables to find live objects.

Each row may carry the ``project_id`` of the project its owner belongs to:
that is what makes the object readable through the artifacts API to the
project's readers (one indexed lookup, see
:mod:`keel.artifact_service.visibility`).

Rows owned by ``artifact:<tree digest>`` are not roots: they record which
objects a tree contains (:func:`record_tree`), so "may this project read X"
is answered by the database without opening manifests. Their ``project_id``
is empty, except while a remote put is uploading the tree's files: then it
names the uploading project (which has just proved it holds those bytes)
until the manifest arrives and :func:`record_tree` clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final

from sqlalchemy import String, delete, func, or_, select, update
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
    project_id: Mapped[str | None] = mapped_column(String(26), nullable=True, index=True)


#: Owners of this kind list a tree's contents; they keep nothing alive by themselves.
TREE_OWNER: Final = "artifact:"


def _check_owner(owner: str) -> str:
    parse_ref(owner)
    return owner


def add_refs(session: Session, refs: Iterable[tuple[str, str]], *, project_id: str | None = None) -> None:
    """Record (digest, owner) references in the caller's transaction.

    ``project_id`` is the project the owners belong to (a run's, a dataset
    version's...); it makes the objects readable to that project's readers.
    An existing reference is kept as it is, except that it takes
    ``project_id`` if it had none.
    """
    now = utcnow()
    rows = {
        (check_digest(digest), _check_owner(owner)): {
            "digest": digest,
            "owner": owner,
            "created_at": now,
            "project_id": project_id,
        }
        for digest, owner in refs
    }
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = list(rows.values())
    # One statement executed with many parameter sets: compiled once and cached, where a
    # multi-row VALUES statement is compiled anew for each batch (10,000 rows: 13 s -> well under 1 s).
    stmt = insert(ArtifactRef)
    if project_id is None:
        upsert = stmt.on_conflict_do_nothing(index_elements=["digest", "owner"])
    else:
        keep = func.coalesce(ArtifactRef.project_id, stmt.excluded.project_id)
        upsert = stmt.on_conflict_do_update(index_elements=["digest", "owner"], set_={"project_id": keep})
    for start in range(0, len(values), 5000):
        session.execute(upsert, values[start : start + 5000])


def record_tree(session: Session, tree: str, entries: Iterable[str]) -> None:
    """Record that tree ``tree`` contains the objects ``entries`` (and end a remote put's staging).

    Call it in the transaction that references the tree, for every tree a
    project may read, so the tree's files are readable through it.
    """
    owner = TREE_OWNER + check_digest(tree)
    wanted = set(entries)
    recorded = session.execute(
        select(func.count()).where(ArtifactRef.owner == owner, ArtifactRef.project_id.is_(None))
    ).scalar_one()
    if recorded < len(wanted):  # a re-put of a recorded tree costs one count, not a row per file
        add_refs(session, [(digest, owner) for digest in sorted(wanted)])
    session.execute(
        update(ArtifactRef)
        .where(ArtifactRef.owner == owner, ArtifactRef.project_id.is_not(None))
        .values(project_id=None)
    )


def forget_objects(session: Session, digests: Iterable[str], *, before: datetime) -> int:
    """Drop the tree-contents rows that name objects gc deleted: rows of those trees, and rows to them.

    Only rows older than ``before`` (when gc read its roots) go: a put that
    stored one of these objects again meanwhile keeps the rows it wrote. Roots
    (every other owner) are never touched; gc deleted nothing they reached.
    """
    wanted = check_digests(digests)
    removed = 0
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        stmt = delete(ArtifactRef).where(
            ArtifactRef.owner.like(TREE_OWNER + "%"),
            ArtifactRef.created_at < before,
            or_(ArtifactRef.digest.in_(chunk), ArtifactRef.owner.in_([TREE_OWNER + d for d in chunk])),
        )
        removed += int(getattr(session.execute(stmt), "rowcount", 0) or 0)
    return removed


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
    """Every directly referenced digest: the gc roots (tree-contents rows are not roots)."""
    query = select(ArtifactRef.digest).where(ArtifactRef.owner.not_like(TREE_OWNER + "%")).distinct()
    return {str(d) for d in session.execute(query).scalars()}
