"""The content-addressed artifact store (L1): heavy bytes live here, named by their BLAKE3.

A short map:

- :func:`open_artifacts` picks a backend by URL (a folder, ``s3://``, any fsspec URL;
  schemes are plugins of the ``keel.artifact_backends`` entry points, see
  :mod:`keel.artifacts.plugins`) and returns an :class:`ArtifactStore`;
- :meth:`ArtifactStore.put_file` / ``put_bytes`` / ``put_stream`` store raw bytes and return
  the digest (lowercase hex BLAKE3); ``put_tree`` stores a folder as a manifest
  object (:class:`TreeInfo`, :class:`TreeEntry`); ``open``, ``get_file`` and
  ``checkout_tree`` / ``checkout_entries`` read them back, verified, a tree
  all or nothing (:mod:`keel.artifacts.place`); an object a verified read
  finds corrupt is set aside, so putting the intact file again repairs it;
- :func:`add_refs` / :func:`remove_refs` keep the references (digest, owner such as
  ``run:<id>``, and the owner's ``project_id``) that are the garbage-collection roots;
  :func:`record_tree` records a referenced tree's contents, so its files are
  readable through the projects that reference it; :func:`collect_garbage`
  deletes what no reference reaches; :func:`fsck` verifies every object;
- :func:`transfer` moves missing objects between stores (push and pull);
  :mod:`keel.artifacts.remotes` reads the named remotes of ``config.toml``.

Callers put objects, call :meth:`ArtifactStore.sync` once, then commit the
rows that reference them, so a crash never leaves metadata pointing at bytes
that were not on disk.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Imported eagerly: these functions share their module's name, and a lazily
# imported submodule would shadow the function on the package.
from keel.artifacts.fsck import fsck
from keel.artifacts.transfer import transfer
from keel.core.lazy import lazy_getattr

__all__ = [
    "ArtifactRef",
    "ArtifactStore",
    "FsckReport",
    "GcReport",
    "ObjectInfo",
    "TransferReport",
    "TreeEntry",
    "TreeInfo",
    "add_refs",
    "check_digest",
    "collect_garbage",
    "fsck",
    "hash_file",
    "open_artifacts",
    "record_tree",
    "referenced_digests",
    "refs_of",
    "remove_refs",
    "transfer",
]

_LAZY = {
    "ArtifactRef": "keel.artifacts.references",
    "ArtifactStore": "keel.artifacts.store",
    "FsckReport": "keel.artifacts.fsck",
    "GcReport": "keel.artifacts.gc",
    "ObjectInfo": "keel.artifacts.model",
    "TransferReport": "keel.artifacts.transfer",
    "TreeEntry": "keel.artifacts.model",
    "TreeInfo": "keel.artifacts.model",
    "add_refs": "keel.artifacts.references",
    "check_digest": "keel.artifacts.digest",
    "collect_garbage": "keel.artifacts.gc",
    "hash_file": "keel.artifacts.files",
    "open_artifacts": "keel.artifacts.location",
    "record_tree": "keel.artifacts.references",
    "referenced_digests": "keel.artifacts.references",
    "refs_of": "keel.artifacts.references",
    "remove_refs": "keel.artifacts.references",
}

if TYPE_CHECKING:
    from keel.artifacts.digest import check_digest
    from keel.artifacts.files import hash_file
    from keel.artifacts.fsck import FsckReport
    from keel.artifacts.gc import GcReport, collect_garbage
    from keel.artifacts.location import open_artifacts
    from keel.artifacts.model import ObjectInfo, TreeEntry, TreeInfo
    from keel.artifacts.references import (
        ArtifactRef,
        add_refs,
        record_tree,
        referenced_digests,
        refs_of,
        remove_refs,
    )
    from keel.artifacts.store import ArtifactStore
    from keel.artifacts.transfer import TransferReport


__getattr__ = lazy_getattr("keel.artifacts", _LAZY, globals())
