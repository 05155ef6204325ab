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
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from keel.artifacts.backend import ObjectBackend
from keel.artifacts.digest import new_hasher
from keel.artifacts.files import FILE_CHUNK, hash_file, inside, install_verified
from keel.artifacts.model import TreeEntry
from keel.core.errors import Conflict, InvalidInput, NotFound

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
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"{dest} is a file; a tree checks out into a folder")
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    missing = sorted({e.digest for e in chosen} - backend.exists(sorted({e.digest for e in chosen})))
    if missing:
        raise NotFound(
            f"{len(missing)} object(s) of this tree are not in {backend.url}, e.g. {missing[0]}",
            hint="pull them from a remote: `keel artifacts pull <remote> <tree digest>`",
        )
    dest.mkdir(parents=True, exist_ok=True)
    root = os.path.realpath(dest)
    existing = []
    for entry in chosen:
        parent = os.path.realpath(os.path.join(root, os.path.dirname(entry.path)))
        if not inside(root, parent):
            raise InvalidInput(f"{entry.path} would be written outside {dest} (through a symlink); refused")
        target = os.path.join(root, entry.path)
        if os.path.lexists(target):
            if os.path.isdir(target) and not os.path.islink(target):
                raise Conflict(f"{target} is a folder; the tree has a file there")
            existing.append(entry.path)
    if existing and not force:
        raise Conflict(
            f"{len(existing)} file(s) exist already under {dest}, e.g. {existing[0]}",
            hint="pass --force to overwrite them",
        )

    def write(entry: TreeEntry) -> None:
        target = Path(root, entry.path)
        if os.path.islink(target):
            target.unlink()
        get_file(backend, entry.digest, target, mode=entry.mode)

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="keel-checkout") as pool:
        list(pool.map(write, chosen))
    return len(chosen)
