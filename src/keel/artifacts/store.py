"""``ArtifactStore``: one object store (a local folder or an fsspec URL) and the verbs on it.

The store is a thin front over an :class:`~keel.artifacts.backend.ObjectBackend`:
it checks digests that come from outside, keeps the per-machine stat cache,
and hands the work to one module per verb (``build``, ``checkout``, ``fsck``,
``gc``, ``transfer``).

Durability: puts never fsync per file. Call :meth:`ArtifactStore.sync` (one
``syncfs``) before committing metadata that references what you put;
``put_tree`` does it itself, as it is a batch of its own.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from keel.artifacts.backend import ObjectBackend, StoredObject
from keel.artifacts.build import build_file, build_tree
from keel.artifacts.checkout import checkout, get_file
from keel.artifacts.digest import CHUNK, check_digest, check_digests, new_hasher
from keel.artifacts.files import REPAIR_HINT
from keel.artifacts.model import ObjectInfo, TreeEntry, TreeInfo
from keel.artifacts.statcache import StatCache
from keel.artifacts.tree import TREE_PREFIX, check_path, decode_tree, looks_like_tree
from keel.core.errors import CorruptObject, InvalidInput, NotFound


def set_aside(digest: str) -> CorruptObject:
    """The error for an object a verified read found corrupt earlier and set aside (quarantined)."""
    return CorruptObject(
        f"object {digest} is corrupt: a verified read found it so and set it aside (.corrupt/)",
        hint=REPAIR_HINT,
    )


class VerifyingReader(io.RawIOBase):
    """Reads an object and raises CorruptObject if its bytes do not hash to its digest.

    Read front to back, the bytes are hashed as they pass and checked at the
    end. A reader that jumps around (a Parquet reader seeks to the footer
    first) cannot be checked that way, so the first seek away from the
    sequential position hashes the whole object once, there and then, and
    raises before any out-of-order byte is handed out.
    """

    def __init__(self, raw: BinaryIO, digest: str, on_corrupt: Callable[[str], object] | None = None) -> None:
        self._raw = raw
        self._digest = digest
        self._on_corrupt = on_corrupt
        self._hasher = new_hasher()
        self._hashed = 0  # bytes hashed in order so far (== position while reading in order)
        self._pos = 0
        self._verified = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._raw.seekable())

    def tell(self) -> int:
        return self._pos

    def _check(self, got: str) -> None:
        self._verified = True
        if got != self._digest:
            if self._on_corrupt is not None:
                self._on_corrupt(self._digest)
            raise CorruptObject(
                f"object {self._digest} is corrupt: its bytes hash to {got}", hint=REPAIR_HINT
            )

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = self._raw.seek(offset, whence)
        if not self._verified and target != self._hashed:
            self._raw.seek(0)
            hasher = new_hasher()
            for chunk in iter(lambda: self._raw.read(CHUNK), b""):
                hasher.update(chunk)
            self._raw.seek(target)
            self._check(str(hasher.hexdigest()))
        self._pos = target
        return target

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        if not self._verified:
            if n:
                self._hasher.update(memoryview(buffer)[:n])
                self._hashed += n
            else:
                self._check(str(self._hasher.hexdigest()))
        self._pos += int(n or 0)
        return int(n or 0)

    def close(self) -> None:
        self._raw.close()
        super().close()


class ArtifactStore:
    """A content-addressed store: objects named by the BLAKE3 of their bytes, and trees of them."""

    def __init__(self, backend: ObjectBackend, *, stat_cache: StatCache | None = None) -> None:
        self.backend = backend
        self.stat_cache = stat_cache or StatCache(None)

    @property
    def url(self) -> str:
        """Where the objects live (no credentials)."""
        return self.backend.url

    def __repr__(self) -> str:
        return f"ArtifactStore({self.url!r})"

    # -- put ---------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its digest (the lowercase hex BLAKE3)."""
        return self.backend.write_bytes(bytes(data))[0].digest

    def put_file(self, path: Path, *, use_stat_cache: bool = False) -> ObjectInfo:
        """Store one file's bytes in constant memory.

        With ``use_stat_cache`` a file whose size, mtime and inode the cache
        knows is not read again (``keel data add`` and ``status`` of a large
        file); a new object is then synced at once, before the cache names it.
        """
        path = Path(path)
        if not path.exists():
            raise NotFound(f"no such file: {path}")
        if path.is_dir():
            raise InvalidInput(f"{path} is a folder; use put_tree")
        if use_stat_cache:
            return build_file(self.backend, self.stat_cache, path)
        return self.backend.write_file(path)[0]

    def put_stream(self, chunks: Iterable[bytes]) -> ObjectInfo:
        """Store the concatenated ``chunks`` in constant memory."""
        return self.backend.write_stream(chunks)[0]

    def put_object(self, digest: str, chunks: Iterable[bytes]) -> bool:
        """Store bytes that must hash to ``digest`` (a transfer); returns whether it was new."""
        return self.backend.write_stream(chunks, expected=check_digest(digest))[1]

    def put_tree(self, folder: Path, *, progress: Callable[[int, int], None] | None = None) -> TreeInfo:
        """Store a folder's files and its manifest; ends with one syncfs.

        ``progress(done, total)`` is called as files are done. Refuses symlinks
        leaving the folder, symlinked folders and special files (InvalidInput).
        """
        return build_tree(self.backend, self.stat_cache, Path(folder), progress=progress)

    def sync(self) -> None:
        """Make everything put so far durable: the one syncfs per batch (a no-op if nothing is new)."""
        self.backend.sync()

    # -- read --------------------------------------------------------------
    def exists(self, digests: Iterable[str]) -> set[str]:
        """Those of ``digests`` the store holds (one batch call; each digest is checked)."""
        checked = check_digests(digests)
        return self.backend.exists(checked) if checked else set()

    def size(self, digest: str) -> int:
        """The object's size in bytes; NotFound if absent."""
        return self.backend.size(check_digest(digest))

    def open(self, digest: str, *, verify: bool = True) -> BinaryIO:
        """A reader of the object, verified unless ``verify=False``.

        A mismatch raises CorruptObject at the end of a front-to-back read, or
        at the first seek of one that jumps (which hashes the object first).
        Every read of this class verifies by default (``open``, ``iter_bytes``,
        ``read_bytes``); pass ``verify=False`` only where the bytes are checked
        some other way.
        """
        try:
            raw = self.backend.open(check_digest(digest))
        except NotFound:
            if self.backend.quarantined([digest]):
                raise set_aside(digest) from None
            raise
        if not verify:
            return raw
        return io.BufferedReader(VerifyingReader(raw, digest, self.backend.quarantine), buffer_size=CHUNK)

    def quarantined(self, digests: Iterable[str]) -> set[str]:
        """Those of ``digests`` found corrupt, set aside, and not stored again since (see ``fsck``)."""
        checked = check_digests(digests)
        return self.backend.quarantined(checked) if checked else set()

    def iter_bytes(self, digest: str, *, verify: bool = True) -> Iterator[bytes]:
        """The object's bytes in chunks (for streamed responses)."""
        with self.open(digest, verify=verify) as handle:
            yield from iter(lambda: handle.read(CHUNK), b"")

    def read_bytes(self, digest: str, *, verify: bool = True) -> bytes:
        """A whole (small) object in memory."""
        with self.open(digest, verify=verify) as handle:
            return handle.read()

    def get_file(self, digest: str, dest: Path, *, hardlink: bool = False) -> None:
        """Write the object to ``dest``: reflink where possible, else copy; always verified.

        With ``hardlink`` the file is a hard link to the object (local stores
        only), hashed through the link before it appears under ``dest``'s name.
        The file appears whole or not at all.
        """
        check_digest(digest)
        if not self.backend.exists([digest]):
            if self.backend.quarantined([digest]):
                raise set_aside(digest)
            raise NotFound(f"no object {digest} in {self.url}")
        get_file(self.backend, digest, Path(dest), hardlink=hardlink)

    # -- trees -------------------------------------------------------------
    def is_tree(self, digest: str) -> bool:
        """Whether the object is a tree manifest (by its first bytes)."""
        with self.open(digest, verify=False) as handle:  # only the first bytes: what they claim
            return looks_like_tree(handle.read(len(TREE_PREFIX)))

    def read_tree(self, digest: str) -> list[TreeEntry]:
        """The entries of tree ``digest``, sorted by path; InvalidInput if it is not a tree."""
        return decode_tree(self.read_bytes(digest), digest)

    def checkout_tree(
        self,
        digest: str,
        dest: Path,
        *,
        include: str | None = None,
        force: bool = False,
        hardlink: bool = False,
    ) -> int:
        """Write the tree's files (matching the glob ``include``) under ``dest``; returns files written.

        See :meth:`checkout_entries`: verified, all or nothing.
        """
        return self.checkout_entries(
            self.read_tree(digest), Path(dest), include=include, force=force, hardlink=hardlink
        )

    def checkout_entries(
        self,
        entries: list[TreeEntry],
        dest: Path,
        *,
        include: str | None = None,
        force: bool = False,
        hardlink: bool = False,
    ) -> int:
        """Write ``entries`` (a tree's, or any list of path/digest/mode) under ``dest``; returns files written.

        The checkout primitive every writer of objects onto disk should use
        (``keel artifacts get``, ``keel data checkout``): every object is
        verified (a hard link through the link itself) in a staging folder,
        and the files are moved into place together, so a failure leaves
        ``dest`` as it was. Raises, before writing anything, NotFound for a
        missing object and Conflict for an existing file (unless ``force``);
        CorruptObject names the first bad object.
        """
        for entry in entries:
            check_path(entry.path)
            check_digest(entry.digest)
        return checkout(self.backend, entries, Path(dest), include=include, force=force, hardlink=hardlink)

    # -- maintenance -------------------------------------------------------
    def iter_objects(self) -> Iterator[StoredObject]:
        """Every object: digest, size, mtime."""
        return self.backend.iter_objects()

    def delete(self, digests: Iterable[str]) -> int:
        """Remove objects (gc does this; nothing else should). Returns how many were removed."""
        return self.backend.delete(check_digests(digests))

    def freshen(self, digests: Iterable[str]) -> None:
        """Mark objects as just used, so a concurrent gc's grace period spares them."""
        self.backend.freshen(check_digests(digests))
