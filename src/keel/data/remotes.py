"""``push`` and ``pull``: a workspace's data objects to and from a named remote (``keel remote add``).

Remotes are for workspaces; a client talking to a server uploads what it adds
and downloads what it reads instead, so both calls refuse it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import TYPE_CHECKING

from keel.client import Client
from keel.core.errors import InvalidInput, NotSupportedRemotely
from keel.data.addresses import ANY_DATASET, all_pages, client_or_default, project_of, resolve
from keel.data.staging import staging_for, version_digests
from keel.datasets.schemas import Dataset, DatasetVersion

if TYPE_CHECKING:
    from keel.artifacts.store import ArtifactStore
    from keel.artifacts.transfer import TransferReport

Progress = Callable[[int, int], None]


def stores_for_transfer(c: Client, remote: str) -> tuple[ArtifactStore, ArtifactStore]:
    """This workspace's store and the named remote's; NotSupportedRemotely for a server's client."""
    from keel.artifacts.remotes import get_remote, open_remote

    if c.is_remote:
        raise NotSupportedRemotely(
            "push and pull move objects between a workspace and a remote; this client talks to a server",
            hint="against a server, `keel data add` uploads the bytes and reads download them",
        )
    store = open_remote(get_remote(c.settings.config_tables if c.settings else {}, remote))
    return staging_for(c).store, store


def push(
    remote: str,
    address: str | None = None,
    *,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> TransferReport:
    """Copy to a named remote the objects it lacks: of one version, or of every dataset's versions."""
    from keel.artifacts.transfer import transfer

    c = client_or_default(client)
    local, store = stores_for_transfer(c, remote)
    return transfer(local, store, _digests(c, address, project), progress=progress)


def pull(
    remote: str,
    address: str,
    *,
    include: str | None = None,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> TransferReport:
    """Copy from a named remote the objects of a version this store lacks (only files matching ``include``).

    Raises InvalidInput when ``include`` matches no file of the version.
    """
    from keel.artifacts.transfer import transfer
    from keel.datasets.diff import version_entries

    c = client_or_default(client)
    local, store = stores_for_transfer(c, remote)
    version = resolve(address, project=project, client=c)
    if include is None:
        return transfer(store, local, version_digests(version), progress=progress)
    if version.layout == "tree" and not local.exists([version.digest]):
        local.put_object(version.digest, store.iter_bytes(version.digest))  # only the manifest, to list files
        local.sync()
    entries = [e for e in version_entries(local, version) if fnmatch.fnmatchcase(e.path, include)]
    if not entries:
        raise InvalidInput(f"no file of {version.address} matches {include!r}")
    return transfer(store, local, sorted({e.digest for e in entries}), progress=progress)


def _digests(c: Client, address: str | None, project: str | None) -> list[str]:
    if address is not None:
        return version_digests(resolve(address, project=project, client=c))
    proj = project_of(ANY_DATASET, project)
    digests: list[str] = []
    datasets: list[Dataset] = all_pages(lambda token: c.data.ls(project=proj, page_token=token))
    for dataset in datasets:
        name = dataset.name
        versions: list[DatasetVersion] = all_pages(
            lambda token: c.data.log(project=proj, name=name, page_token=token)  # noqa: B023
        )
        for version in versions:
            digests += version_digests(version)
    return sorted(set(digests))
