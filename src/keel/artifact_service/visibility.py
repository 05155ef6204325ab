"""Which objects a project can read: those its references reach, directly or through a referenced tree.

A reference counts for a project when its row carries the project's id,
whatever its owner: ``project:<id>`` (``keel artifacts put``), a run's or a
dataset version's references written with the project's id. A tree's
contents are rows owned by ``artifact:<tree>`` (:func:`keel.artifacts.references.record_tree`),
so the whole question is one query on indexed columns, however many objects
the project references, and never a listing of the store:

    X is readable by P  <=>  a row (X, _, P) exists
                          or rows (X, artifact:T, _) and (T, _, P) exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session, aliased

from keel.artifacts.references import TREE_OWNER, ArtifactRef

#: Digests per query (bound parameters stay well under every database's limit).
_BATCH: Final = 500


def visible(session: Session, project_id: str, digests: Iterable[str]) -> set[str]:
    """Those of ``digests`` that references held for project ``project_id`` reach."""
    wanted = sorted(set(digests))
    seen: set[str] = set()
    content = aliased(ArtifactRef, name="content")
    holder = aliased(ArtifactRef, name="holder")
    for start in range(0, len(wanted), _BATCH):
        chunk = wanted[start : start + _BATCH]
        direct = select(ArtifactRef.digest).where(
            ArtifactRef.project_id == project_id, ArtifactRef.digest.in_(chunk)
        )
        through_tree = (
            select(content.digest)
            .join(holder, holder.digest == func.substr(content.owner, len(TREE_OWNER) + 1))
            .where(
                content.digest.in_(chunk),
                content.owner.like(TREE_OWNER + "%"),
                holder.project_id == project_id,
            )
        )
        seen.update(str(d) for d in session.execute(union(direct, through_tree)).scalars())
    return seen
