"""Which objects a project can read: those its references reach, directly or through a referenced tree.

The owners whose references count are, for now, the project itself
(``project:<id>``); the access-control work widens :func:`readable_owners`
(runs, dataset versions... of projects the caller may read). Tree contents are
cached by digest: a tree never changes, so the cache can never be stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.artifacts.refs import ArtifactRef
from keel.artifacts.store import ArtifactStore
from keel.core.errors import KeelError

_TREE_CACHE_SIZE = 256


def readable_owners(project_id: str) -> list[str]:
    """The owners whose references make an object readable through project ``project_id``."""
    return [f"project:{project_id}"]


class TreeCache:
    """A bounded map from a digest to its tree entries' digests (None if it is not a tree)."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, frozenset[str] | None] = OrderedDict()
        self._lock = threading.Lock()

    def entries(self, store: ArtifactStore, digest: str) -> frozenset[str] | None:
        with self._lock:
            if digest in self._items:
                self._items.move_to_end(digest)
                return self._items[digest]
        value: frozenset[str] | None = None
        try:
            if store.is_tree(digest):
                value = frozenset(e.digest for e in store.read_tree(digest))
        except KeelError:
            value = None
        with self._lock:
            self._items[digest] = value
            while len(self._items) > _TREE_CACHE_SIZE:
                self._items.popitem(last=False)
        return value


def visible(
    session: Session, store: ArtifactStore, trees: TreeCache, owners: list[str], digests: Iterable[str]
) -> set[str]:
    """Those of ``digests`` that ``owners``' references reach."""
    wanted = set(digests)
    if not wanted:
        return set()
    direct_query = select(ArtifactRef.digest).where(
        ArtifactRef.owner.in_(owners), ArtifactRef.digest.in_(sorted(wanted))
    )
    seen = {str(d) for d in session.execute(direct_query).scalars()}
    rest = wanted - seen
    if not rest:
        return seen
    roots = session.execute(select(ArtifactRef.digest).where(ArtifactRef.owner.in_(owners))).scalars()
    present = store.exists(sorted({str(r) for r in roots}))
    for root in sorted(present):
        entries = trees.entries(store, root)
        if entries:
            hit = rest & entries
            seen |= hit
            rest -= hit
            if not rest:
                break
    return seen
