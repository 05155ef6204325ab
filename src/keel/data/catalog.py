"""The metadata calls: thin wrappers over the ``data`` service that take addresses (``name@v3``).

Each resolves the project (the address's, ``project=``, or the current one)
and calls ``client.data``. A call that shares a name with a service operation
returns what that operation returns (``ls`` and ``log`` a :class:`Page`,
``tag`` and ``show`` a version record, ``rm`` a dataset); ``get`` is the one
SDK-only read, a :class:`VersionHandle` on a version's bytes, and the
service's read of one dataset's record is ``client.data.dataset``.
"""

from __future__ import annotations

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.core.paging import Page
from keel.data.addresses import ANY_DATASET, all_pages, client_or_default, project_of, resolve
from keel.data.handles import VersionHandle
from keel.datasets.address_syntax import split_address
from keel.datasets.schemas import Dataset, DatasetVersion, LineageView, VersionDiff


def get(address: str, *, project: str | None = None, client: Client | None = None) -> VersionHandle:
    """A handle on a version: ``keel.data.get("churn-train@latest").to_pandas()``."""
    c = client_or_default(client)
    return VersionHandle(resolve(address, project=project, client=c), c)


def ls(
    *,
    project: str | None = None,
    limit: int | None = None,
    page_token: str | None = None,
    client: Client | None = None,
) -> Page[Dataset]:
    """The project's datasets by name, as a page like ``client.data.ls``.

    Without ``limit`` the page holds every dataset (the pages are followed for
    you, and ``next_token`` is None); with ``limit`` it is one page of the service.
    """
    c = client_or_default(client)
    proj = project_of(ANY_DATASET, project)
    if limit is not None:
        page: Page[Dataset] = c.data.ls(project=proj, limit=limit, page_token=page_token)
        return page
    return Page[Dataset](items=all_pages(lambda t: c.data.ls(project=proj, page_token=t), page_token))


def show(address: str, *, project: str | None = None, client: Client | None = None) -> DatasetVersion:
    """One version: schema, profile, files summary, digest."""
    return resolve(address, project=project, client=client)


def log(
    name: str,
    *,
    project: str | None = None,
    limit: int | None = None,
    page_token: str | None = None,
    client: Client | None = None,
) -> Page[DatasetVersion]:
    """A dataset's versions, newest first, as a page like ``client.data.log``.

    Without ``limit`` the page holds every version; with ``limit`` it is one page of the service.
    """
    c = client_or_default(client)
    parsed = split_address(name)
    proj = project_of(parsed, project)
    if limit is not None:
        page: Page[DatasetVersion] = c.data.log(
            project=proj, name=parsed.name, limit=limit, page_token=page_token
        )
        return page
    versions: list[DatasetVersion] = all_pages(
        lambda t: c.data.log(project=proj, name=parsed.name, page_token=t), page_token
    )
    return Page[DatasetVersion](items=versions)


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
    tag: str,
    *,
    force: bool = False,
    project: str | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """Give the version at ``address`` the tag ``tag`` (then ``name@golden`` finds it).

    As in ``client.data.tag``, ``tag`` is the tag and the dataset comes from the
    address; moving a tag that points elsewhere needs ``force`` (else Conflict).
    """
    c = client_or_default(client)
    parsed = split_address(address)
    return c.data.tag(
        project=project_of(parsed, project),
        name=parsed.name,
        version=parsed.selector,
        tag=tag,
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
    view: LineageView = c.data.lineage(
        project=project_of(parsed, project), name=parsed.name, version=parsed.selector, depth=depth
    )
    return _with_run_names(c, view)


def _with_run_names(c: Client, view: LineageView) -> LineageView:
    """Label the runs of a lineage by name: the data service knows versions, the runs service knows runs."""
    from keel.core.errors import KeelError

    refs = {r for e in (*view.upstream, *view.downstream) for r in (e["src"], e["dst"])}
    labels = dict(view.labels)
    for ref in sorted(r for r in refs if r.startswith("run:") and r not in labels):
        try:
            labels[ref] = f"run {c.runs.get(run_id=ref.split(':', 1)[1]).name}"
        except KeelError:  # a run the caller may not see keeps its id alone
            continue
    return view.model_copy(update={"labels": labels})
