"""What the store returns: an object's digest and size, a tree's summary, a tree's entries."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ObjectInfo(BaseModel):
    """One stored object: its digest (lowercase hex BLAKE3 of the raw bytes) and size in bytes."""

    model_config = ConfigDict(frozen=True)

    digest: str
    size: int


class TreeEntry(BaseModel):
    """One file of a tree: its relative POSIX path, digest, size and mode (0o644 or 0o755)."""

    model_config = ConfigDict(frozen=True)

    path: str
    digest: str
    size: int
    mode: int


class TreeInfo(BaseModel):
    """A stored folder: the digest of its manifest, and how many files and bytes it lists."""

    model_config = ConfigDict(frozen=True)

    digest: str
    files: int
    size: int
