"""A version's files onto disk: a folder (reflink, else verified copy), hard links, or one restored file.

The bytes are written by the artifact store's own checkout primitives
(:meth:`ArtifactStore.checkout_tree`, :meth:`ArtifactStore.get_file`), which
verify every object and refuse before writing anything; this module only
chooses what to write where and checks the destination a version needs.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import TYPE_CHECKING

from keel.core.errors import Conflict, InvalidInput
from keel.datasets.diff import version_entries
from keel.datasets.schemas import DatasetVersion

if TYPE_CHECKING:
    from keel.artifacts.model import TreeEntry
    from keel.artifacts.store import ArtifactStore


def materialise(
    store: ArtifactStore,
    version: DatasetVersion,
    dest: Path,
    *,
    include: str | None,
    force: bool,
    hardlink: bool,
) -> int:
    """Write the version's files (those matching the glob ``include``) into the folder ``dest``.

    Returns how many files were written. Raises InvalidInput if nothing
    matches or ``dest`` is a file, Conflict if ``dest`` is not empty and not
    ``force``.
    """
    entries = version_entries(store, version)
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    if not chosen:
        raise InvalidInput(f"no file of {version.address} matches {include!r}")
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"{dest} is a file; checkout writes into a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise Conflict(f"{dest} is not empty", hint="choose an empty folder, or pass --force to overwrite")
    if hardlink:
        return hardlink_entries(store, chosen, dest, force=force)
    if version.layout == "tree":
        return store.checkout_tree(version.digest, dest, include=include, force=force)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / version.source_name
    if target.exists():
        target.unlink()
    store.get_file(version.digest, target)
    return 1


def hardlink_entries(store: ArtifactStore, entries: list[TreeEntry], dest: Path, *, force: bool) -> int:
    """Hard links to the store's objects: no copy, but editing a linked file corrupts the store.

    Raises InvalidInput if an object is missing or the store is not a local folder.
    """
    digests = {e.digest for e in entries}
    missing = digests - store.exists(digests)
    if missing:
        raise InvalidInput(f"{len(missing)} object(s) are not in the local store; pull them first")
    for entry in entries:
        source = store.backend.local_path(entry.digest)
        if source is None:
            raise InvalidInput("hard links need a local artifact store")
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and force:
            target.unlink()
        os.link(source, target)
    return len(entries)


def restore_file(store: ArtifactStore, version: DatasetVersion, target: Path, *, force: bool) -> int:
    """Write a one-file version back to ``target`` (its pointer's data path); returns 1.

    Raises InvalidInput if ``target`` is a folder, Conflict if it exists and not ``force``.
    """
    if target.exists():
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; the pointer names a file")
        if not force:
            raise Conflict(f"{target} exists already", hint="pass --force to overwrite it")
        target.unlink()
    store.get_file(version.digest, target)
    return 1
