"""The narrow contract every object backend meets, so the store above it is written once.

A backend knows objects only by digest: it writes bytes under a temporary
name and installs them under ``ab/cdef...`` only once complete, answers
batch existence, opens, lists, deletes, and flushes. Two implementations:
:class:`keel.artifacts.local.LocalObjectStore` (a folder, with reflinks and one
``syncfs`` per batch) and :class:`keel.artifacts.remote_fs.FsspecBackend`
(any fsspec URL: ``s3://``, ``gs://``, ``memory://``...).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from keel.artifacts.model import ObjectInfo


class StoredObject(NamedTuple):
    """An object as a listing sees it: digest, size and last-modified time (seconds since the epoch)."""

    digest: str
    size: int
    mtime: float


def object_key(digest: str) -> str:
    """The relative key of an object: ``ab/cdef...``."""
    return f"{digest[:2]}/{digest[2:]}"


class ObjectBackend(abc.ABC):
    """Where objects live. Digests passed in are already checked."""

    #: Where this backend stores objects, safe to print (no credentials).
    url: str

    @abc.abstractmethod
    def exists(self, digests: list[str]) -> set[str]:
        """Those of ``digests`` that are stored."""

    @abc.abstractmethod
    def write_stream(self, chunks: Iterable[bytes], expected: str | None = None) -> tuple[ObjectInfo, bool]:
        """Store the bytes of ``chunks`` (constant memory); returns the info and whether it was new.

        With ``expected`` the bytes must hash to it (CorruptObject otherwise, nothing kept).
        """

    def write_bytes(self, data: bytes, digest: str | None = None) -> tuple[ObjectInfo, bool]:
        """Store bytes held in memory (small objects, manifests)."""
        from keel.artifacts.digest import hash_bytes

        return self.write_stream([data], expected=digest or hash_bytes(data))

    def write_file(self, path: Path) -> tuple[ObjectInfo, bool]:
        """Store a file's bytes (constant memory); backends may do better than reading it."""
        with open(path, "rb") as handle:
            return self.write_stream(iter(lambda: handle.read(1 << 20), b""))

    @abc.abstractmethod
    def open(self, digest: str) -> BinaryIO:
        """A binary reader of the object; NotFound if it is not stored."""

    @abc.abstractmethod
    def size(self, digest: str) -> int:
        """The object's size in bytes; NotFound if it is not stored."""

    @abc.abstractmethod
    def iter_objects(self) -> Iterator[StoredObject]:
        """Every stored object, in no particular order."""

    @abc.abstractmethod
    def delete(self, digests: list[str]) -> int:
        """Remove objects; returns how many were there."""

    def freshen(self, digests: list[str]) -> None:  # noqa: B027 - optional
        """Mark objects as just used, so a garbage collection's grace period spares them."""

    def exists_and_freshen(self, digests: list[str]) -> set[str]:
        """``exists``, then ``freshen`` what is there (backends may do both in one pass)."""
        present = self.exists(digests)
        self.freshen(sorted(present))
        return present

    def epoch(self) -> str | None:
        """A token that changes whenever this store deletes objects; None if the backend has none.

        The stat cache trusts a recent sighting of an object only while the epoch is unchanged.
        """
        return None

    def sync(self) -> None:  # noqa: B027 - optional
        """Make every object written so far durable (one flush for the whole batch)."""

    def local_path(self, digest: str) -> Path | None:
        """The object's file on this machine, where there is one (for reflinks and fast copies)."""
        return None

    def clean_temp(self, older_than_s: float = 3600.0) -> int:
        """Remove temporaries that interrupted writes left and no live writer owns; returns how many.

        Backends whose writes leave no temporaries of their own (an object
        store's multipart upload is aborted by the store) have nothing to do.
        """
        return 0

    def quarantine(self, digest: str) -> bool:
        """Set a corrupt object aside (under ``.corrupt/``), so the store no longer claims to have it.

        Called by a verified read that found the object corrupt. Once set
        aside, ``exists`` answers no, so putting the intact file again (or a
        pull) stores it afresh: that is how a corrupt object is repaired. The
        object is re-hashed first and left alone if intact (a repair got there
        first). Returns whether it was set aside; a backend that cannot set
        objects aside keeps them, and reads of them keep failing verification.
        """
        return False

    def quarantined(self, digests: list[str]) -> set[str]:
        """Those of ``digests`` that were set aside as corrupt and not stored again since."""
        return set()
