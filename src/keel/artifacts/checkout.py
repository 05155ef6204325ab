"""``get_file`` and ``checkout``: objects back into files, every byte verified, all or nothing.

This is the one primitive that writes a store's objects onto disk; the data
SDK's checkout and ``keel artifacts get`` both come through it.

A local object is reflinked (``FICLONE``: shared blocks, no copy) where the
file system allows, otherwise copied; with ``hardlink`` it is hard-linked
(no copy at all, but the file then *is* the object: editing it in place
corrupts the store, which is why objects are read-only). Whichever way, the
file written is hashed before it counts, so a corrupt object is never linked
or copied into place: a hard link is hashed through the link itself, so what
is verified is exactly the inode the user gets.

A tree's files are written into a staging folder and moved into place
together (:func:`keel.artifacts.place.place_files`): a checkout that fails on
its 21st file leaves the destination as it was, and one refused up front
(an existing file without ``force``, a symlinked folder leading outside, a
missing object) writes nothing.
"""

from __future__ import annotations

import errno
import fcntl
import fnmatch
import os
from pathlib import Path
from typing import Final

from keel.artifacts.backend import ObjectBackend
from keel.artifacts.digest import new_hasher
from keel.artifacts.files import FILE_CHUNK, REPAIR_HINT, hash_file, install_verified
from keel.artifacts.model import TreeEntry
from keel.artifacts.place import place_files
from keel.core.errors import CorruptObject, InvalidInput, NotFound

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


def _hardlink(backend: ObjectBackend, digest: str, dest: Path) -> str:
    """Hard-link object ``digest`` to the new name ``dest``; returns the digest of the linked bytes."""
    local = backend.local_path(digest)
    if local is None:
        raise InvalidInput(
            f"hard links need a local artifact store; {backend.url} is not one",
            hint="check out without --hardlink (a verified copy)",
        )
    try:
        os.link(local, dest)
    except FileNotFoundError:
        raise NotFound(f"no object {digest} in {backend.url}") from None
    except OSError as exc:
        if exc.errno in (errno.EXDEV, errno.EPERM, errno.EMLINK):
            raise InvalidInput(
                f"cannot hard-link {dest} to the store's object ({exc.strerror}); "
                "the destination must be on the store's file system",
                hint="check out without --hardlink (a verified copy)",
            ) from None
        raise
    return hash_file(dest)


def fill(backend: ObjectBackend, digest: str, dest: Path, *, hardlink: bool = False) -> str:
    """Create the new file ``dest`` from object ``digest``; returns the digest of what it holds.

    The caller compares the result with ``digest`` before the file counts.
    """
    if hardlink:
        return _hardlink(backend, digest, dest)
    local = backend.local_path(digest)
    if local is not None and local.exists() and _reflink(local, dest):
        return hash_file(dest)
    return _copy_hashing(backend, digest, dest)


def corrupt(digest: str, got: str, where: str) -> CorruptObject:
    """The error for an object whose bytes hash to ``got``; ``where`` says what was left unwritten."""
    return CorruptObject(
        f"object {digest} is corrupt: its bytes hash to {got}; nothing was written to {where}",
        hint=REPAIR_HINT,
    )


def get_file(
    backend: ObjectBackend, digest: str, dest: Path, *, mode: int | None = None, hardlink: bool = False
) -> None:
    """Write object ``digest`` to ``dest`` (reflink, else copy; or a hard link), verifying its bytes.

    The file appears under ``dest``'s name only once verified (a temporary
    name beside it is renamed). A hard link keeps the object's read-only mode.
    """

    def write(temp: Path) -> str:
        got = fill(backend, digest, temp, hardlink=hardlink)
        if got != digest:
            backend.quarantine(digest)
        return got

    install_verified(dest, digest, write, mode=None if hardlink else mode)


def checkout(
    backend: ObjectBackend,
    entries: list[TreeEntry],
    dest: Path,
    *,
    include: str | None = None,
    force: bool = False,
    hardlink: bool = False,
) -> int:
    """Write entries (those matching the glob ``include``) under ``dest``, all or none; returns files written.

    Raises NotFound if an object is missing, Conflict or InvalidInput for a
    destination that cannot take the files (before writing anything), and
    CorruptObject naming the first bad object (leaving ``dest`` as it was).
    """
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    wanted = sorted({e.digest for e in chosen})
    missing = sorted(set(wanted) - backend.exists(wanted))
    aside = sorted(backend.quarantined(missing)) if missing else []
    if aside:
        raise CorruptObject(
            f"{len(aside)} object(s) of this tree were found corrupt and set aside, e.g. {aside[0]}; "
            f"nothing was written to {dest}",
            hint=REPAIR_HINT,
        )
    if missing:
        raise NotFound(
            f"{len(missing)} object(s) of this tree are not in {backend.url}, e.g. {missing[0]}",
            hint="pull them from a remote: `keel artifacts pull <remote> <tree digest>`",
        )
    if hardlink and chosen and backend.local_path(chosen[0].digest) is None:
        raise InvalidInput(
            f"hard links need a local artifact store; {backend.url} is not one",
            hint="check out without --hardlink (a verified copy)",
        )
    by_path = {e.path: e for e in chosen}

    def write(path: str, staged: Path) -> None:
        entry = by_path[path]
        got = fill(backend, entry.digest, staged, hardlink=hardlink)
        if got != entry.digest:
            backend.quarantine(entry.digest)
            raise corrupt(entry.digest, got, f"{dest} (entry {path})")
        if not hardlink:
            os.chmod(staged, entry.mode)

    place_files(dest, [e.path for e in chosen], write, force=force, workers=WORKERS)
    return len(chosen)
