"""Paths on disk against their datasets: ``add`` records a version, ``status`` says what changed.

Both hash through the stat cache, so an unchanged file costs one ``stat``,
and both first ask for the latest version's head (number and digest), which
a laptop workspace answers from its SQLite file without loading SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.client import Client
from keel.client.backends import InProcessBackend
from keel.core.errors import InvalidInput, KeelError
from keel.data.addresses import client_or_default, project_of, resolve
from keel.data.gitignore import ignore_beside
from keel.data.handles import Added, Status
from keel.data.staging import staging_for
from keel.datasets.address_syntax import split_address
from keel.datasets.heads import VersionHead, latest_head
from keel.datasets.pointer import Pointer, pointer_path, read_pointer, write_pointer
from keel.datasets.schemas import AddResult, DatasetKind, DatasetVersion
from keel.services import preload

Progress = Callable[[int, int], None]


def quick_head(c: Client, project: str, dataset: str) -> VersionHead | None:
    """The latest version's head from a laptop workspace's SQLite file, or None (then ask the service)."""
    backend = c.backend
    if not isinstance(backend, InProcessBackend) or not backend.sees_every_row():
        return None
    if not c.settings or not c.settings.db_url:
        return None
    return latest_head(c.settings.db_url, project, dataset)


def write_pointer_for(target: Path, head: VersionHead) -> Path:
    """Write ``<target>.keel`` naming ``head``; returns the pointer's path."""
    return write_pointer(target, Pointer(head.project, head.dataset, head.number, head.digest, target.name))


def add(
    path: str | Path,
    name: str | None = None,
    *,
    message: str = "",
    kind: DatasetKind | None = None,
    project: str | None = None,
    pointer: bool = True,
    parents: list[str] | None = None,
    progress: Progress | None = None,
    gitignore: bool = True,
    client: Client | None = None,
    require_valid: Any = None,
) -> Added:
    """Version a file or folder as ``name`` (default: the file's stem); identical content makes no new version.

    ``require_valid`` (a validation Suite or its YAML file) refuses a new table
    that fails it with CheckFailed, recording nothing; a passing one gets its
    report stored against the new version.

    Writes ``<path>.keel`` beside the data unless ``pointer=False``, and inside
    a git work tree adds ``/<path>`` to the ``.gitignore`` beside it unless
    ``gitignore=False`` (git keeps the pointer, not the data). ``parents``
    are addresses of versions this one was made from (recorded as lineage).
    Raises InvalidInput for a name with a version in it or a path that cannot be versioned.
    """
    c = client_or_default(client)
    source = Path(path)
    wanted = name or source.resolve().name.split(".")[0]
    parsed = split_address(wanted)
    if "@" in wanted:
        raise InvalidInput(
            f"name the dataset without a version: {wanted!r}", hint="versions are numbered for you"
        )
    proj = project_of(parsed, project)
    dataset = parsed.name
    from keel.datasets.build import describe, snapshot

    staging = staging_for(c)
    hashing = preloaded = False

    def on_progress(done: int, total: int) -> None:
        # New files were hashed, so a new version is likely and the store's one syncfs comes
        # next: import the data service (SQLAlchemy) while the kernel flushes. Starting at the
        # flush, not before, keeps the import from contending for the GIL with the hashing.
        nonlocal hashing, preloaded
        if done < total:
            hashing = True
        elif hashing and not preloaded:
            preload("data")
            preloaded = True
        if progress is not None:
            progress(done, total)

    snap = snapshot(source, staging.store, progress=on_progress)
    head = None if parents else quick_head(c, proj, dataset)
    if head is not None and head.digest == snap.digest:
        written = _track(snap.path, head, gitignore) if pointer else None
        return Added(head, False, written, client=c)
    parent_refs = [resolve(p, project=proj, client=c).ref for p in parents or []]
    try:
        latest: DatasetVersion | None = c.data.version(project=proj, name=dataset, version="latest")
    except KeelError:
        latest = None
    if latest is not None and latest.digest == snap.digest and not parent_refs:
        result = AddResult(version=latest, created=False)
    else:
        scratch = c.settings.home_path / "cache" if c.settings and c.settings.home_path else None
        content = describe(snap, staging.store, kind=kind, scratch=scratch)
        staging.store.sync()
        staging.upload(proj, [e.digest for e in snap.entries] + content.object_digests())
        if require_valid is not None:
            from keel.validation.admission import admit, as_suite

            require_valid = as_suite(require_valid)
            admit(c, proj, dataset, list(content.table_parts), require_valid)
        result = c.data.add_version(
            project=proj, name=dataset, content=content, message=message, parents=parent_refs
        )
    v = result.version
    if require_valid is not None and result.created:
        from keel.validation.admission import record

        record(c, proj, dataset, v.number, require_valid)
    head = VersionHead.of(v)
    written = _track(snap.path, head, gitignore) if pointer else None
    return Added(head, result.created, written, client=c, version=v)


def _track(target: Path, head: VersionHead, gitignore: bool) -> Path:
    """Write the pointer; inside git, ignore the data beside it. Returns the pointer's path."""
    written = write_pointer_for(target, head)
    if gitignore:
        ignore_beside(target)
    return written


def status(
    path: str | Path,
    name: str | None = None,
    *,
    project: str | None = None,
    client: Client | None = None,
) -> Status:
    """Compare a path with the latest version of its dataset (named by its pointer, or ``name``).

    Unchanged files cost one stat each (the stat cache); changed files are
    hashed into the store, so a following ``add`` reads nothing again.
    Raises InvalidInput when the path has no pointer and no name is given.
    """
    c = client_or_default(client)
    source = Path(path)
    if name is None:
        pointer_file = pointer_path(source)
        if not pointer_file.is_file():
            raise InvalidInput(
                f"{source} has no pointer file {pointer_file.name}; pass the dataset name with --name"
            )
        pointer = read_pointer(pointer_file)
        proj, dataset = pointer.project, pointer.dataset
    else:
        parsed = split_address(name)
        proj, dataset = project_of(parsed, project), parsed.name
    version: DatasetVersion | None = None
    head = quick_head(c, proj, dataset)
    if head is None:
        version = c.data.version(project=proj, name=dataset, version="latest")
        head = VersionHead.of(version)
    from keel.datasets.build import snapshot
    from keel.datasets.diff import file_changes, version_entries

    staging = staging_for(c)
    snap = snapshot(source, staging.store)
    staging.fetch(head.project, [head.digest])
    changes = (
        [] if snap.digest == head.digest else file_changes(version_entries(staging.store, head), snap.entries)
    )
    return Status(snap.path, head, changes, client=c, version=version)
