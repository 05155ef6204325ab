"""What the artifact operations return besides the store's own ObjectInfo, TreeEntry and TreeInfo."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ArtifactStat(BaseModel):
    """One object as a project sees it: digest, size, whether it is a tree, and (if asked) whether it is intact."""

    digest: str
    size: int
    tree: bool
    #: Whether the stored bytes still hash to the digest; None unless the stat was asked to verify.
    intact: bool | None = None


class StoredRef(BaseModel):
    """A reference held by a project: the object's digest and when the project took it."""

    digest: str
    owner: str
    created_at: datetime


class PutResult(BaseModel):
    """What ``keel artifacts put`` stored: one digest, for a file or a whole folder."""

    digest: str
    size: int
    files: int
    tree: bool
