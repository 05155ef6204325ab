"""``push`` and ``pull``: a workspace's versions to and from a named remote (``keel remote add``).

A push copies the objects the remote lacks and each version's record (see
:mod:`keel.data.records`), so a teammate's clone holding only the pointer
files and ``.keel/config.toml`` gets the same versions, numbers and metadata
with ``keel data pull``. Remotes are for workspaces; a client talking to a
server uploads what it adds and downloads what it reads instead, so both
calls refuse it.
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound, NotSupportedRemotely
from keel.data.addresses import ANY_DATASET, all_pages, client_or_default, project_of, resolve
from keel.data.records import RemoteVersions, open_versions
from keel.data.staging import staging_for, version_digests
from keel.datasets.pointer import SUFFIX, read_pointer
from keel.datasets.schemas import Dataset, DatasetVersion

if TYPE_CHECKING:
    from keel.artifacts.store import ArtifactStore

Progress = Callable[[int, int], None]


@dataclass
class Transferred:
    """What a push or pull did: objects moved or already there, bytes, and the versions it carried."""

    remote: str
    moved: int = 0
    present: int = 0
    bytes: int = 0
    versions: list[str] = field(default_factory=list)
    records: int = 0


def _open(c: Client, remote: str | None) -> tuple[ArtifactStore, RemoteVersions]:
    """This workspace's store and the remote's versions; NotSupportedRemotely for a server's client."""
    if c.is_remote:
        raise NotSupportedRemotely(
            "push and pull move objects between a workspace and a remote; this client talks to a server",
            hint="against a server, `keel data add` uploads the bytes and reads download them",
        )
    _ensure_database(c)
    return staging_for(c).store, open_versions(c.settings.config_tables if c.settings else {}, remote)


def _ensure_database(c: Client) -> None:
    """Create a workspace's SQLite database where there is none yet: a fresh git clone holds only config.toml."""
    settings = c.settings
    url = settings.db_url if settings else None
    if settings is None or settings.home_path is None or not url or not url.startswith("sqlite:///"):
        return
    if not Path(url.removeprefix("sqlite:///")).exists():
        from keel.store.migrate import upgrade_url

        upgrade_url(url)


def _remote_and_address(c: Client, remote: str | None, address: str | None) -> tuple[str | None, str | None]:
    """``pull xray@v3`` names a version, not a remote: one argument that is no remote's name and reads
    as an address (``@``) or a pointer file is the address."""
    if remote is None or address is not None:
        return remote, address
    from keel.artifacts.remotes import remotes_from

    known = remotes_from(c.settings.config_tables if c.settings else {})
    if remote not in known and ("@" in remote or remote.endswith(SUFFIX)):
        return None, remote
    return remote, address


def _count(report: Transferred, moved: object) -> None:
    report.moved += int(getattr(moved, "moved", 0))
    report.present += int(getattr(moved, "present", 0))
    report.bytes += int(getattr(moved, "bytes", 0))


def push(
    remote: str | None = None,
    address: str | None = None,
    *,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> Transferred:
    """Copy to a remote one version (or every version of the project): its objects, then its record.

    ``remote`` None means the only remote, or ``origin``. Raises Conflict,
    before copying anything, if the remote holds one of these version numbers
    with other content (another workspace pushed it first).
    """
    from keel.artifacts.transfer import transfer

    c = client_or_default(client)
    remote, address = _remote_and_address(c, remote, address)
    local, versions = _open(c, remote)
    chosen = [resolve(address, project=project, client=c)] if address else _every_version(c, project)
    clashes = versions.conflicts(chosen)
    if clashes:
        versions.put(chosen)  # raises the Conflict that names them, having written nothing
    report = Transferred(versions.remote.name, versions=[v.address for v in chosen])
    digests = sorted({d for v in chosen for d in version_digests(v)})
    _count(report, transfer(local, versions.store, digests, progress=progress))
    report.records = versions.put(chosen)
    return report


def pull(
    remote: str | None = None,
    address: str | None = None,
    *,
    include: str | None = None,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> Transferred:
    """Copy from a remote what this workspace lacks of a version, and record the version here.

    ``address`` is a version (``xray@v3``), a pointer file, or None for every
    pointer under the workspace's folder (a fresh clone's ``keel data pull``).
    A version this workspace does not know is read from the remote's record,
    keeping its number and metadata. ``include`` fetches only matching files.
    Raises NotFound if the remote has no record of it, Conflict if this
    workspace holds that number with other content.
    """
    c = client_or_default(client)
    remote, address = _remote_and_address(c, remote, address)
    local, versions = _open(c, remote)
    report = Transferred(versions.remote.name)
    if address is None:
        from keel.data.tracked import tracked_pointers, workspace_folder

        pointers = tracked_pointers(workspace_folder(c))
        if not pointers:
            raise InvalidInput(
                f"no pointer files (*{SUFFIX}) under {workspace_folder(c)}", hint="name a version to pull"
            )
        targets = [str(p) for p in pointers]
    else:
        targets = [address]
    for target in targets:
        version = _version_for(c, versions, target, project)
        _fetch(local, versions, version, include, progress, report)
        report.versions.append(version.address)
        if _record_here(c, version):
            report.records += 1
    return report


def _version_for(c: Client, versions: RemoteVersions, target: str, project: str | None) -> DatasetVersion:
    """The version ``target`` names: from this workspace if it knows it, else from the remote's record."""
    if target.endswith(SUFFIX) and Path(target).is_file():
        pointer = read_pointer(Path(target))
        wanted = (pointer.project, pointer.dataset, pointer.version)
    else:
        try:
            return resolve(target, project=project, client=c)
        except NotFound:
            from keel.datasets.address_syntax import selector_kind, split_address

            parsed = split_address(target)
            kind, number = selector_kind(parsed.selector)
            if kind != "number" or not isinstance(number, int):
                raise
            wanted = (project_of(parsed, project), parsed.name, number)
    try:
        version = c.data.version(project=wanted[0], name=wanted[1], version=f"v{wanted[2]}")
    except NotFound:
        return versions.get(*wanted)
    if target.endswith(SUFFIX) and version.digest != read_pointer(Path(target)).digest:
        raise InvalidInput(
            f"pointer file {target} names {version.address} with another digest than this workspace's",
            hint="both sides made that version; restore the pointer from git, or address it by digest",
        )
    return version


def _fetch(
    local: ArtifactStore,
    versions: RemoteVersions,
    version: DatasetVersion,
    include: str | None,
    progress: Progress | None,
    report: Transferred,
) -> None:
    from keel.artifacts.transfer import transfer
    from keel.datasets.diff import version_entries

    if include is None:
        _count(report, transfer(versions.store, local, version_digests(version), progress=progress))
        return
    if version.layout == "tree" and not local.exists([version.digest]):
        local.put_object(version.digest, versions.store.iter_bytes(version.digest))  # the manifest, to list
        local.sync()
    entries = [e for e in version_entries(local, version) if fnmatch.fnmatchcase(e.path, include)]
    if not entries:
        raise InvalidInput(f"no file of {version.address} matches {include!r}")
    _count(report, transfer(versions.store, local, sorted({e.digest for e in entries}), progress=progress))


def _record_here(c: Client, version: DatasetVersion) -> bool:
    """Record a pulled version in this workspace (its project too, if new); whether anything was new.

    A version pulled with ``include`` lacks some objects, so it is not recorded
    (its files are still readable by digest).
    """
    from keel.core.errors import AlreadyExists

    if staging_for(c).store.exists(version_digests(version)) != set(version_digests(version)):
        return False
    with contextlib.suppress(AlreadyExists):
        c.projects.create(name=version.project)
    result = c.data.import_version(project=version.project, name=version.dataset, version=version)
    return bool(result.created)


def _every_version(c: Client, project: str | None) -> list[DatasetVersion]:
    proj = project_of(ANY_DATASET, project)
    found: list[DatasetVersion] = []
    datasets: list[Dataset] = all_pages(lambda token: c.data.ls(project=proj, page_token=token))
    for dataset in datasets:
        name = dataset.name
        found += all_pages(lambda token: c.data.log(project=proj, name=name, page_token=token))  # noqa: B023
    return sorted(found, key=lambda v: (v.dataset, v.number))
