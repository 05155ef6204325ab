"""Local files and folders to and from a Keel server: the client side of put and get over REST.

A folder is hashed here (same walk and same manifest bytes as the local
store, so the digest is the same either way), the server is asked which
objects the project can read already, only the others are uploaded, then the
manifest. Downloads verify every file's digest before renaming it into place.
These functions take the operations as callables, so they need no HTTP code.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final

from keel.artifact_service.schemas import PutResult
from keel.artifacts.build import walk_folder
from keel.artifacts.digest import CHUNK, new_hasher
from keel.artifacts.model import ObjectInfo, TreeEntry
from keel.artifacts.tree import encode_tree, normal_mode
from keel.core.errors import Conflict, CorruptObject, InvalidInput

Progress = Callable[[int, int], None]
EXISTS_BATCH: Final = 5_000


def file_chunks(path: Path) -> Iterator[bytes]:
    """A file's bytes in chunks (constant memory)."""
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


def hash_file(path: Path) -> str:
    """The digest of a file, read in chunks."""
    hasher = new_hasher()
    for chunk in file_chunks(path):
        hasher.update(chunk)
    return str(hasher.hexdigest())


def upload_path(
    path: Path,
    *,
    exists: Callable[[list[str]], list[str]],
    upload: Callable[[Iterable[bytes]], ObjectInfo],
    progress: Progress | None = None,
) -> PutResult:
    """Upload a file, or a folder as a tree, through ``exists`` and ``upload`` operations."""
    if not path.is_dir():
        if not path.exists():
            raise InvalidInput(f"no such file or folder: {path}")
        info = upload(file_chunks(path))
        return PutResult(digest=info.digest, size=info.size, files=1, tree=False)
    _, found = walk_folder(path)
    entries: list[tuple[str, str, int, int]] = []
    for index, (rel, abs_path, st) in enumerate(found, 1):
        entries.append((rel, hash_file(Path(abs_path)), st.st_size, normal_mode(st.st_mode)))
        if progress is not None and index % 64 == 0:
            progress(index, 2 * len(found))
    digests = sorted({e[1] for e in entries})
    have: set[str] = set()
    for start in range(0, len(digests), EXISTS_BATCH):
        have.update(exists(digests[start : start + EXISTS_BATCH]))
    by_digest = {e[1]: Path(path, e[0]) for e in entries}
    todo = [d for d in digests if d not in have]
    for index, digest in enumerate(todo, 1):
        info = upload(file_chunks(by_digest[digest]))
        if info.digest != digest:
            raise Conflict(f"{by_digest[digest]} changed while it was being uploaded; run put again")
        if progress is not None:
            progress(len(found) + index * len(found) // max(len(todo), 1), 2 * len(found))
    manifest = encode_tree(entries)
    tree = upload([manifest])
    return PutResult(digest=tree.digest, size=sum(e[2] for e in entries), files=len(entries), tree=True)


def write_verified(chunks: Iterable[bytes], digest: str, dest: Path, mode: int | None = None) -> None:
    """Write ``chunks`` to ``dest`` via a temporary name, refusing bytes that do not hash to ``digest``."""
    if dest.is_dir():
        raise InvalidInput(f"{dest} is a folder; name a file to write the object to")
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.parent / f".{dest.name}.keel-{uuid.uuid4().hex[:12]}"
    try:
        hasher = new_hasher()
        with open(temp, "wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
        if hasher.hexdigest() != digest:
            raise CorruptObject(f"object {digest} arrived corrupt; nothing was written to {dest}")
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def download_tree(
    entries: list[TreeEntry],
    dest: Path,
    *,
    download: Callable[[str], Iterable[bytes]],
    include: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> int:
    """Write a tree's files under ``dest`` from ``download(digest)``; returns files written."""
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    root = dest.resolve()
    existing = [e.path for e in chosen if os.path.lexists(root / e.path)]
    if existing and not force:
        raise Conflict(
            f"{len(existing)} file(s) exist already under {dest}, e.g. {existing[0]}",
            hint="pass --force to overwrite them",
        )
    for index, entry in enumerate(chosen, 1):
        target = root / entry.path
        if not os.path.realpath(target.parent).startswith(str(root)):
            raise InvalidInput(f"{entry.path} would be written outside {dest} (through a symlink); refused")
        write_verified(download(entry.digest), entry.digest, target, entry.mode)
        if progress is not None:
            progress(index, len(chosen))
    return len(chosen)
