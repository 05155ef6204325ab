"""``transfer``: copy the objects one store lacks from another, in parallel. Push and pull are this.

Only missing objects move (one batch ``exists`` on the destination). Each
object is verified against its digest as it arrives and lands whole or not
at all, so an interrupted transfer is resumed by running it again: what
arrived is skipped, the rest moves. Files move before the trees that name
them, so the destination never holds a tree whose files it lacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from keel.artifacts.digest import CHUNK, check_digests
from keel.artifacts.store import ArtifactStore
from keel.core.errors import NotFound

WORKERS: Final = 8


@dataclass
class TransferReport:
    """What a transfer looked at and moved."""

    requested: int = 0
    present: int = 0
    moved: int = 0
    bytes: int = 0


def closure(store: ArtifactStore, digests: Iterable[str]) -> tuple[list[str], list[str]]:
    """(files, trees): the digests plus the entries of those that are trees, as ``store`` has them."""
    wanted = check_digests(digests)
    present = store.exists(wanted)
    absent = [d for d in wanted if d not in present]
    if absent:
        raise NotFound(
            f"{len(absent)} object(s) are not in {store.url}, e.g. {absent[0]}",
            hint="check the digest (`keel artifacts ls-tree`) and the remote's name",
        )
    files: dict[str, None] = {}
    trees: list[str] = []
    for digest in wanted:
        if store.is_tree(digest):
            trees.append(digest)
            for entry in store.read_tree(digest):
                files[entry.digest] = None
        else:
            files[digest] = None
    return [d for d in files if d not in trees], trees


def transfer(
    src: ArtifactStore,
    dst: ArtifactStore,
    digests: Iterable[str] | None = None,
    *,
    workers: int = WORKERS,
    progress: Callable[[int, int], None] | None = None,
) -> TransferReport:
    """Copy to ``dst`` the objects of ``digests`` (and their trees' entries) it lacks; all of ``src`` if None.

    ``progress(objects done, objects to move)`` is called as objects land.
    """
    if digests is None:
        everything = [obj.digest for obj in src.iter_objects()]
        missing_all = set(everything) - dst.exists(everything)
        trees = [d for d in sorted(missing_all) if src.is_tree(d)]
        tree_set = set(trees)
        files = [d for d in sorted(missing_all) if d not in tree_set]
        requested = len(everything)
    else:
        files, trees = closure(src, digests)
        requested = len(files) + len(trees)
    want = files + trees
    present = dst.exists(want) if want else set()
    report = TransferReport(requested=requested, present=requested - len(want) + len(present))
    todo_files = [d for d in files if d not in present]
    todo_trees = [d for d in trees if d not in present]
    total = len(todo_files) + len(todo_trees)
    if progress is not None:
        progress(0, total)

    def move(digest: str) -> int:
        size = 0

        def chunks() -> Iterable[bytes]:
            nonlocal size
            with src.backend.open(digest) as handle:
                for chunk in iter(lambda: handle.read(CHUNK * 4), b""):
                    size += len(chunk)
                    yield chunk

        dst.put_object(digest, chunks())
        return size

    for batch in (todo_files, todo_trees):
        if not batch:
            continue
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keel-transfer") as pool:
            for size in pool.map(move, batch):
                report.moved += 1
                report.bytes += size
                if progress is not None:
                    progress(report.moved, total)
        dst.sync()
    return report
