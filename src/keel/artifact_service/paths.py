"""Local files and folders to and from a Keel server: the client side of put and get over REST.

A folder is hashed here (same walk and same manifest bytes as the local
store, so the digest is the same either way), the server is asked which
objects the project can read already, only the others are uploaded (as files
of the coming tree, so the project ends up referencing the tree alone,
exactly as a local put does), then the manifest.

A tree is fetched as its manifest's bytes, checked against the tree's digest
and decoded here (every path refused unless it is a plain relative path), so
a hostile or broken server cannot name files outside the destination. Each
file is verified against its digest before it is renamed into place. These
functions take the operations as callables, so they need no HTTP code.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final

from keel.artifact_service.schemas import PutResult
from keel.artifacts.build import walk_folder
from keel.artifacts.digest import hash_bytes
from keel.artifacts.files import file_chunks, hash_file, write_verified
from keel.artifacts.model import ObjectInfo
from keel.artifacts.place import place_files
from keel.artifacts.tree import decode_tree, encode_tree, normal_mode
from keel.core.errors import Conflict, CorruptObject, InvalidInput, KeelError

Progress = Callable[[int, int], None]
#: ``upload(chunks, tree)``: store the bytes; ``tree`` is the digest of the folder they belong to, if any.
Upload = Callable[[Iterable[bytes], str | None], ObjectInfo]
EXISTS_BATCH: Final = 5_000


def upload_path(
    path: Path,
    *,
    exists: Callable[[list[str]], list[str]],
    upload: Upload,
    progress: Progress | None = None,
) -> PutResult:
    """Upload a file, or a folder as a tree, through ``exists`` and ``upload`` operations."""
    if not path.is_dir():
        if not path.exists():
            raise InvalidInput(f"no such file or folder: {path}")
        info = upload(file_chunks(path), None)
        return PutResult(digest=info.digest, size=info.size, files=1, tree=False)
    _, found = walk_folder(path)
    entries: list[tuple[str, str, int, int]] = []
    for index, (rel, abs_path, st) in enumerate(found, 1):
        entries.append((rel, hash_file(abs_path), st.st_size, normal_mode(st.st_mode)))
        if progress is not None and index % 64 == 0:
            progress(index, 2 * len(found))
    manifest = encode_tree(entries)
    tree = hash_bytes(manifest)
    digests = sorted({e[1] for e in entries})
    have: set[str] = set()
    for start in range(0, len(digests), EXISTS_BATCH):
        have.update(exists(digests[start : start + EXISTS_BATCH]))
    by_digest = {e[1]: Path(path, e[0]) for e in entries}
    todo = [d for d in digests if d not in have]
    for index, digest in enumerate(todo, 1):
        info = upload(file_chunks(by_digest[digest]), tree)
        if info.digest != digest:
            raise Conflict(f"{by_digest[digest]} changed while it was being uploaded; run put again")
        if progress is not None:
            progress(len(found) + index * len(found) // max(len(todo), 1), 2 * len(found))
    info = upload([manifest], None)
    return PutResult(digest=info.digest, size=sum(e[2] for e in entries), files=len(entries), tree=True)


def download_verified(
    digest: str, download: Callable[[str], Iterable[bytes]], intact: Callable[[str], bool]
) -> Iterator[bytes]:
    """``download(digest)``'s chunks; a stream that breaks off is explained.

    A server that finds a large object corrupt only at its end (the bytes are
    hashed as they are sent) cuts the stream short rather than send the last
    chunk. When a stream breaks, ``intact(digest)`` asks the server to
    verify its copy: if it is corrupt, CorruptObject says "object … is
    corrupt on the server"; otherwise the transport's error stands.
    """
    try:
        yield from download(digest)
    except KeelError:
        raise
    except Exception:
        if not intact(digest):
            raise CorruptObject(
                f"object {digest} is corrupt on the server",
                hint="an administrator can run `keel artifacts fsck` there; putting the intact file "
                "again repairs the object",
            ) from None
        raise


def download_tree(
    tree: str,
    dest: Path,
    *,
    download: Callable[[str], Iterable[bytes]],
    include: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write tree ``tree``'s files under ``dest`` from ``download(digest)``, all or none; returns files written.

    The manifest is downloaded, verified against ``tree`` and decoded here;
    every destination is checked (inside ``dest`` even through symlinked
    folders, not there already unless ``force``) before anything is written,
    and the files land together (:func:`keel.artifacts.place.place_files`):
    a corrupt file or a broken connection leaves ``dest`` as it was.
    """
    manifest = b"".join(download(tree))
    if hash_bytes(manifest) != tree:
        raise CorruptObject(f"tree {tree} arrived corrupt: its manifest does not hash to its digest")
    entries = decode_tree(manifest, tree)
    chosen = {e.path: e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)}
    done = 0

    def write(path: str, staged: Path) -> None:
        nonlocal done
        entry = chosen[path]
        write_verified(download(entry.digest), entry.digest, staged, entry.mode)
        done += 1
        if progress is not None:
            progress(done, len(chosen))

    place_files(dest, list(chosen), write, force=force)
    return len(chosen)
