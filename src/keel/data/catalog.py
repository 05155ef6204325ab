"""The metadata calls: thin wrappers over the ``data`` service that take addresses (``name@v3``).

Each resolves the project (the address's, ``project=``, or the current one)
and calls ``client.data``; listings follow the pages to the end.
"""

from __future__ import annotations

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.data.addresses import ANY_DATASET, all_pages, client_or_default, project_of, resolve
from keel.data.handles import VersionHandle
from keel.datasets.refs import split_address
from keel.datasets.schemas import Dataset, DatasetVersion, LineageView, VersionDiff


def get(address: str, *, project: str | None = None, client: Client | None = None) -> VersionHandle:
    """A handle on a version: ``keel.data.get("churn-train@latest").to_pandas()``."""
    c = client_or_default(client)
    return VersionHandle(resolve(address, project=project, client=c), c)


def ls(*, project: str | None = None, client: Client | None = None) -> list[Dataset]:
    """Every dataset of the project."""
    c = client_or_default(client)
    proj = project_of(ANY_DATASET, project)
    return all_pages(lambda token: c.data.ls(project=proj, page_token=token))


def show(address: str, *, project: str | None = None, client: Client | None = None) -> DatasetVersion:
    """One version: schema, profile, files summary, digest."""
    return resolve(address, project=project, client=client)


def log(name: str, *, project: str | None = None, client: Client | None = None) -> list[DatasetVersion]:
    """A dataset's versions, newest first."""
    c = client_or_default(client)
    parsed = split_address(name)
    proj = project_of(parsed, project)
    return all_pages(lambda token: c.data.log(project=proj, name=parsed.name, page_token=token))


def diff(
    before: str,
    after: str,
    *,
    key: list[str] | None = None,
    examples: int = 5,
    project: str | None = None,
    client: Client | None = None,
) -> VersionDiff:
    """Compare two versions (of one dataset or two, in one project); ``key`` adds a row diff.

    Raises InvalidInput for versions of two projects.
    """
    c = client_or_default(client)
    a, b = split_address(before), split_address(after)
    proj = project_of(a, project)
    if project_of(b, proj) != proj:
        raise InvalidInput("diff compares versions within one project")
    return c.data.diff(
        project=proj,
        name=a.name,
        before=a.selector,
        after=b.selector,
        after_dataset=b.name if b.name != a.name else None,
        key=key,
        examples=examples,
    )


def tag(
    address: str,
    tag_name: str,
    *,
    force: bool = False,
    project: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """Name a version (``name@golden``); moving an existing tag needs ``force``."""
    c = client_or_default(client)
    parsed = split_address(address)
    return c.data.tag(
        project=project_of(parsed, project),
        name=parsed.name,
        version=parsed.selector,
        tag=tag_name,
        force=force,
    )


def rm(name: str, *, project: str | None = None, client: Client | None = None) -> Dataset:
    """Remove a dataset (soft); its objects become collectable by ``keel artifacts gc``."""
    c = client_or_default(client)
    parsed = split_address(name)
    return c.data.rm(project=project_of(parsed, project), name=parsed.name)


def lineage(
    address: str, *, depth: int = 5, project: str | None = None, client: Client | None = None
) -> LineageView:
    """What a version came from and which runs (and later models) used it."""
    c = client_or_default(client)
    parsed = split_address(address)
    return c.data.lineage(
        project=project_of(parsed, project), name=parsed.name, version=parsed.selector, depth=depth
    )
