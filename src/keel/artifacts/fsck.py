"""``fsck``: re-hash every object and check every tree's entries; name each bad one.

An object is corrupt when its bytes no longer hash to its name. Each one
found is set aside (``.corrupt/``, see :meth:`ObjectBackend.quarantine`), so
the store stops claiming it: putting the intact file again, or a pull,
stores it afresh. Until then every fsck names it again (``corrupt`` lists
those found now and those set aside earlier and not yet repaired). A tree is
bad when its manifest does not parse, or an entry's object is missing, set
aside or of a different size. Objects are hashed in a few threads (BLAKE3
and reads release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Final

from keel.artifacts.files import hash_reader
from keel.artifacts.local import CORRUPT_DIR, LocalObjectStore
from keel.artifacts.store import ArtifactStore
from keel.artifacts.tree import TREE_PREFIX, looks_like_tree
from keel.core.errors import KeelError

WORKERS: Final = 4


@dataclass
class FsckReport:
    """What fsck checked and what it found wrong."""

    objects: int = 0
    bytes: int = 0
    trees: int = 0
    corrupt: list[str] = field(default_factory=list)
    bad_trees: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.corrupt and not self.bad_trees


def _check_object(store: ArtifactStore, digest: str) -> tuple[str, bool, bool]:
    """(digest, intact, looks like a tree)."""
    with store.backend.open(digest) as handle:
        head = handle.read(len(TREE_PREFIX))
        got = hash_reader(handle, head)
    return digest, got == digest, looks_like_tree(head)


def _set_aside(store: ArtifactStore) -> set[str]:
    """Objects set aside as corrupt earlier and not stored again since (local stores list ``.corrupt/``)."""
    if not isinstance(store.backend, LocalObjectStore):
        return set()
    folder = store.backend.root / CORRUPT_DIR
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return store.backend.quarantined(names)


def fsck(store: ArtifactStore, *, progress: Callable[[int, int], None] | None = None) -> FsckReport:
    """Verify every object's digest and every tree's entries (and remove temporaries no live writer owns)."""
    store.backend.clean_temp()
    listing = {obj.digest: obj.size for obj in store.iter_objects()}
    report = FsckReport(objects=len(listing), bytes=sum(listing.values()))
    trees: list[str] = []
    done = 0
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="keel-fsck") as pool:
        for digest, intact, is_tree in pool.map(lambda d: _check_object(store, d), sorted(listing)):
            if not intact:
                report.corrupt.append(digest)
            elif is_tree:
                trees.append(digest)
            done += 1
            if progress is not None and (done % 64 == 0 or done == len(listing)):
                progress(done, len(listing))
    for digest in report.corrupt:
        store.backend.quarantine(digest)
        listing.pop(digest, None)
    if isinstance(store.backend, LocalObjectStore):
        store.backend.forget_repaired()
    aside = _set_aside(store)
    report.corrupt = sorted(set(report.corrupt) | aside)
    report.trees = len(trees)
    corrupt = set(report.corrupt)
    for digest in trees:
        try:
            entries = store.read_tree(digest)
        except KeelError as exc:
            report.bad_trees[digest] = exc.message
            continue
        for entry in entries:
            if entry.digest in corrupt:
                report.bad_trees[digest] = f"entry {entry.path} names the corrupt object {entry.digest}"
                break
            size = listing.get(entry.digest)
            if size is None:
                report.bad_trees[digest] = f"entry {entry.path} names a missing object {entry.digest}"
                break
            if size != entry.size:
                report.bad_trees[digest] = (
                    f"entry {entry.path} says {entry.size} bytes but object {entry.digest} has {size}"
                )
                break
    return report
