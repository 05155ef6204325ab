"""Local files and objects: hash a file, write verified bytes into place, keep writes inside a folder.

One place for the three things every reader and writer of local files needs,
so a fix to any of them (chunk size, the temp-verify-rename order, the
containment rule) applies to ``put``, ``get``, ``checkout``, ``fsck`` and the
REST client alike:

- :func:`hash_reader` / :func:`hash_file`: the digest of a stream or file, in chunks;
- :func:`install_verified` / :func:`write_verified`: fill a temporary file
  beside the destination, refuse it unless its bytes hash to the expected
  digest, then rename it into place (so a bad object never appears under the
  destination's name);
- :func:`inside`: whether a real path lies within a folder (by path
  components, so ``/data/out-evil`` is not inside ``/data/out``); the checks
  on a whole tree's destinations live with :func:`keel.artifacts.place.place_files`.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Final

from keel.artifacts.digest import CHUNK, new_hasher
from keel.core.errors import CorruptObject, InvalidInput

#: Bytes read per step when hashing a file: a few MB amortise the calls.
FILE_CHUNK: Final = CHUNK * 4
#: What to do about a corrupt object, printed with every CorruptObject the store raises.
REPAIR_HINT: Final = (
    "`keel artifacts fsck` names every bad object; put the intact file again "
    "(or pull a good copy from a remote) to repair it"
)


def hash_reader(handle: BinaryIO, head: bytes = b"") -> str:
    """The digest of ``head`` followed by the rest of ``handle``, read in chunks (constant memory)."""
    hasher = new_hasher()
    hasher.update(head)
    for chunk in iter(lambda: handle.read(FILE_CHUNK), b""):
        hasher.update(chunk)
    return str(hasher.hexdigest())


def hash_file(path: Path | str) -> str:
    """The digest of a file's bytes."""
    with open(path, "rb") as handle:
        return hash_reader(handle)


def file_chunks(path: Path | str) -> Iterator[bytes]:
    """A file's bytes in chunks (constant memory), for streaming it somewhere."""
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(CHUNK), b"")


def inside(root: str, target: str) -> bool:
    """Whether ``target`` is ``root`` or lies below it; both real (resolved) paths."""
    root = root.rstrip(os.sep) or os.sep
    return target == root or target.startswith(root if root == os.sep else root + os.sep)


def install_verified(
    dest: Path, digest: str, fill: Callable[[Path], str], *, mode: int | None = None, what: str = ""
) -> None:
    """Write ``dest`` through ``fill(temp) -> digest of what it wrote``; rename only if it is ``digest``.

    The temporary file sits beside ``dest`` (same file system, so the rename
    is atomic, and replaces a symlink at ``dest`` rather than writing through
    it) and is removed whatever happens.
    """
    if dest.is_dir() and not dest.is_symlink():
        raise InvalidInput(f"{dest} is a folder; name a file to write the object to")
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.parent / f".{dest.name}.keel-{uuid.uuid4().hex[:12]}"
    try:
        got = fill(temp)
        if got != digest:
            raise CorruptObject(
                f"object {digest} {what or 'is corrupt'}: its bytes hash to {got}; nothing was written to {dest}",
                hint=REPAIR_HINT,
            )
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_verified(chunks: Iterable[bytes], digest: str, dest: Path, mode: int | None = None) -> None:
    """Write ``chunks`` to ``dest`` via a temporary name, refusing bytes that do not hash to ``digest``."""

    def fill(temp: Path) -> str:
        hasher = new_hasher()
        with open(temp, "wb") as out:
            for chunk in chunks:
                hasher.update(chunk)
                out.write(chunk)
        return str(hasher.hexdigest())

    install_verified(dest, digest, fill, mode=mode, what="arrived corrupt")
