"""``get_file`` and ``checkout``: objects back into files, verified on the way.

A local object is reflinked (``FICLONE``: shared blocks, no copy) where the
file system allows, otherwise copied; either way its bytes are hashed and a
mismatch raises CorruptObject with nothing written under the destination's
name. Writes go to a temporary name beside the destination and are renamed.
A checkout checks every destination path first (no existing file unless
``force``, no symlinked folder leading outside the destination, every object
present), so a refused checkout writes nothing.
"""

from __future__ import annotations

import fcntl
import fnmatch
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from keel.artifacts.backend import ObjectBackend
from keel.artifacts.digest import new_hasher
from keel.artifacts.files import FILE_CHUNK, hash_file, install_verified, prepare_folder
from keel.artifacts.model import TreeEntry
from keel.core.errors import NotFound

FICLONE: Final = 0x40049409
WORKERS: Final = 4


def _reflink(src: Path, dest: Path) -> bool:
    """Clone ``src`` into the new file ``dest`` if the file system can; False otherwise."""
    try:
        with open(src, "rb") as s, open(dest, "wb") as d:
            fcntl.ioctl(d.fileno(), FICLONE, s.fileno())
        return True
    except OSError:
        dest.unlink(missing_ok=True)
        return False


def _copy_hashing(backend: ObjectBackend, digest: str, dest: Path) -> str:
    hasher = new_hasher()
    with backend.open(digest) as src, open(dest, "wb") as out:
        for chunk in iter(lambda: src.read(FILE_CHUNK), b""):
            hasher.update(chunk)
            out.write(chunk)
    return str(hasher.hexdigest())


def get_file(backend: ObjectBackend, digest: str, dest: Path, *, mode: int | None = None) -> None:
    """Write object ``digest`` to ``dest`` (reflink, else copy), verifying its bytes."""
    local = backend.local_path(digest)

    def fill(temp: Path) -> str:
        if local is not None and local.exists() and _reflink(local, temp):
            return hash_file(temp)
        return _copy_hashing(backend, digest, temp)

    install_verified(dest, digest, fill, mode=mode)


def checkout(
    backend: ObjectBackend,
    entries: list[TreeEntry],
    dest: Path,
    *,
    include: str | None = None,
    force: bool = False,
) -> int:
    """Write a tree's entries (those matching the glob ``include``) under ``dest``; returns files written."""
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    missing = sorted({e.digest for e in chosen} - backend.exists(sorted({e.digest for e in chosen})))
    if missing:
        raise NotFound(
            f"{len(missing)} object(s) of this tree are not in {backend.url}, e.g. {missing[0]}",
            hint="pull them from a remote: `keel artifacts pull <remote> <tree digest>`",
        )
    root = prepare_folder(dest, [e.path for e in chosen], force=force)

    def write(entry: TreeEntry) -> None:
        get_file(backend, entry.digest, Path(root, entry.path), mode=entry.mode)

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="keel-checkout") as pool:
        list(pool.map(write, chosen))
    return len(chosen)
