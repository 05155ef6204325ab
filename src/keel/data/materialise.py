"""A version's files onto disk: a folder (reflink, else verified copy; or hard links), or one restored file.

The bytes are written by the artifact store's own checkout primitives
(:meth:`ArtifactStore.checkout_tree`, :meth:`ArtifactStore.get_file`), which
verify every object (through the link, for hard links), land a folder whole
or not at all, and refuse before writing anything; this module only chooses
what to write where and checks the destination a version needs.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

from keel.core.errors import Conflict, InvalidInput
from keel.datasets.diff import version_entries
from keel.datasets.schemas import DatasetVersion

if TYPE_CHECKING:
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
    if version.layout == "tree":
        return store.checkout_tree(version.digest, dest, include=include, force=force, hardlink=hardlink)
    dest.mkdir(parents=True, exist_ok=True)
    store.get_file(version.digest, dest / version.source_name, hardlink=hardlink)
    return 1


def restore_file(
    store: ArtifactStore, version: DatasetVersion, target: Path, *, force: bool, hardlink: bool = False
) -> int:
    """Write a one-file version back to ``target`` (its pointer's data path); returns 1.

    Raises InvalidInput if ``target`` is a folder, Conflict if it exists and not ``force``.
    """
    if target.exists():
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; the pointer names a file")
        if not force:
            raise Conflict(f"{target} exists already", hint="pass --force to overwrite it")
    store.get_file(version.digest, target, hardlink=hardlink)
    return 1
