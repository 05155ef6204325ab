"""``keel.data``: version data from Python, the calls ``keel data ...`` makes.

>>> v = keel.data.add("data/customers.parquet", name="churn-train")
>>> df = keel.data.get("churn-train@latest").to_pandas()

The work that touches the user's files (hashing into the artifact store,
profiling, Parquet conversion, checkout, status) runs here, next to the
files; the metadata goes through the client's ``data`` service, so the same
calls work on a local workspace and (for metadata) against a server.
Addresses are ``name@v3``, ``name@latest``, ``name@<tag>``, ``name@<digest>``,
or ``project/name@v3``; without a project the current one is used
(``keel.init(project=...)`` or the ``project`` setting).
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import keel.data as data  # noqa: F401 - the public ``keel.data`` name resolves to this package
from keel.client import Client
from keel.client.backends import LocalBackend
from keel.core.errors import Conflict, InvalidInput, KeelError, NotSupportedRemotely
from keel.data.heads import VersionHead, latest_head
from keel.data.pointer import SUFFIX, Pointer, data_path, pointer_path, read_pointer, write_pointer
from keel.data.refs import Address, split_address
from keel.data.schemas import (
    AddResult,
    Dataset,
    DatasetKind,
    DatasetVersion,
    FileChange,
    LineageView,
    VersionDiff,
)
from keel.services import preload

Progress = Callable[[int, int], None]


def _client(client: Client | None) -> Client:
    if client is not None:
        return client
    from keel.sdk import get_client  # the module-level SDK state; loads tracking, so only when needed

    return get_client()


def _project(address: Address, project: str | None) -> str:
    chosen = address.project or project
    if not chosen:
        from keel.sdk import current_project

        chosen = current_project()
    if not chosen:
        raise InvalidInput(
            f"no project for {address.name!r}: write project/{address.name}, pass --project, "
            "or set the project setting (keel config set project NAME)"
        )
    return chosen


def _is_remote(c: Client) -> bool:
    return not isinstance(c.backend, LocalBackend)


def _artifacts(c: Client) -> Any:
    """The store this side reads and writes: the workspace's, or a local staging store for a server.

    Against a server, bytes are built and hashed here, in a staging store under
    the user's cache folder (``KEEL_STAGING_DIR`` overrides it), then uploaded
    (only the missing ones) through the artifact service; reads download into it.
    """
    if not _is_remote(c):
        return c.backend.ctx.artifacts  # type: ignore[attr-defined]
    from keel.artifacts import open_artifacts

    root = Path(os.environ.get("KEEL_STAGING_DIR") or Path.home() / ".cache" / "keel" / "staging")
    return open_artifacts(str(root / "objects"), cache_dir=root / "cache")


def _upload(c: Client, store: Any, project: str, digests: list[str]) -> int:
    """Upload to the server the objects it lacks (files before the trees that name them)."""
    if not _is_remote(c):
        return 0
    from keel.core.operations import ByteStream

    ordered = list(dict.fromkeys(digests))
    present: set[str] = set()
    for start in range(0, len(ordered), 5000):
        present |= set(c.artifacts.exists(project=project, digests=ordered[start : start + 5000]))
    trees = [d for d in ordered if d not in present and store.is_tree(d)]
    files = [d for d in ordered if d not in present and d not in trees]
    for digest in files + trees:
        c.artifacts.upload(
            project=project, data=ByteStream(store.iter_bytes(digest), size=store.size(digest))
        )
    return len(files) + len(trees)


def _fetch(c: Client, store: Any, project: str, digests: list[str]) -> None:
    """Download from the server the objects the staging store lacks (no-op on a local workspace)."""
    if not _is_remote(c) or not digests:
        return
    have = store.exists(digests)
    for digest in dict.fromkeys(digests):
        if digest not in have:
            store.put_object(digest, iter(c.artifacts.download(project=project, digest=digest)))
    store.sync()


def _fetch_version(c: Client, store: Any, version: DatasetVersion, include: str | None = None) -> None:
    """Make a version's objects (files matching ``include``, Parquet parts, sample) readable here."""
    if not _is_remote(c):
        return
    _fetch(
        c,
        store,
        version.project,
        [version.digest, *version.table_parts] + ([version.sample_digest] if version.sample_digest else []),
    )
    if version.layout == "tree":
        entries = store.read_tree(version.digest)
        _fetch(
            c,
            store,
            version.project,
            [e.digest for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)],
        )


def resolve(address: str, *, project: str | None = None, client: Client | None = None) -> DatasetVersion:
    """The version an address names (``name@v3``, ``project/name@golden``, a pointer file's path)."""
    c = _client(client)
    if address.endswith(SUFFIX) and Path(address).is_file():
        pointer = read_pointer(Path(address))
        version: DatasetVersion = c.data.version(
            project=pointer.project, name=pointer.dataset, version=f"v{pointer.version}"
        )
        if version.digest != pointer.digest:
            raise InvalidInput(
                f"pointer file {address} says {pointer.address} has digest {pointer.digest[:12]}..., "
                f"but that version's digest is {version.digest[:12]}..."
            )
        return version
    parsed = split_address(address)
    return c.data.version(project=_project(parsed, project), name=parsed.name, version=parsed.selector)


class _NamesVersion:
    """A result that names its version by :class:`VersionHead`; ``.version`` (the full record) loads on use.

    Why: an unchanged ``add`` and a clean ``status`` are answered from the
    head alone (see :mod:`keel.data.heads`), so the schema, profile and tags
    are read only by callers that look at them.
    """

    def __init__(self, head: VersionHead, client: Client, version: DatasetVersion | None) -> None:
        self.head = head
        self._client = client
        self._version = version

    @property
    def version(self) -> DatasetVersion:
        if self._version is None:
            h = self.head
            self._version = self._client.data.version(
                project=h.project, name=h.dataset, version=f"v{h.number}"
            )
        return self._version


class Added(_NamesVersion):
    """What :func:`add` did: the version (``head``, ``version``), whether it is new, the pointer written."""

    def __init__(
        self,
        head: VersionHead,
        created: bool,
        pointer: Path | None,
        *,
        client: Client,
        version: DatasetVersion | None = None,
    ) -> None:
        super().__init__(head, client, version)
        self.created = created
        self.pointer = pointer

    def __repr__(self) -> str:
        return f"<Added {self.head.address} created={self.created}>"


def _quick_head(c: Client, project: str, dataset: str) -> VersionHead | None:
    """The latest version's head from a laptop workspace's SQLite file, or None (then ask the service)."""
    if _is_remote(c):
        return None
    from keel.auth.single_user import SingleUserAuthorizer

    ctx = c.backend.ctx  # type: ignore[attr-defined]
    if not isinstance(ctx.authorizer, SingleUserAuthorizer) or not c.settings or not c.settings.db_url:
        return None
    return latest_head(c.settings.db_url, project, dataset)


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
    client: Client | None = None,
) -> Added:
    """Version a file or folder as ``name`` (default: the file's stem); identical content makes no new version.

    Writes ``<path>.keel`` beside the data unless ``pointer=False``. ``parents``
    are addresses of versions this one was made from (recorded as lineage).
    """
    c = _client(client)
    source = Path(path)
    wanted = name or source.resolve().name.split(".")[0]
    parsed = split_address(wanted)
    if "@" in wanted:
        raise InvalidInput(
            f"name the dataset without a version: {wanted!r}", hint="versions are numbered for you"
        )
    proj = _project(parsed, project)
    dataset = parsed.name
    from keel.data.build import describe, snapshot

    artifacts = _artifacts(c)
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

    snap = snapshot(source, artifacts, progress=on_progress)
    head = None if parents else _quick_head(c, proj, dataset)
    if head is not None and head.digest == snap.digest:
        return Added(head, False, _write_pointer(snap.path, head) if pointer else None, client=c)
    parent_refs = [resolve(p, project=proj, client=c).ref for p in parents or []]
    try:
        latest: DatasetVersion | None = c.data.version(project=proj, name=dataset, version="latest")
    except KeelError:
        latest = None
    if latest is not None and latest.digest == snap.digest and not parent_refs:
        result = AddResult(version=latest, created=False)
    else:
        scratch = c.settings.home_path / "cache" if c.settings and c.settings.home_path else None
        content = describe(snap, artifacts, kind=kind, scratch=scratch)
        artifacts.sync()
        _upload(c, artifacts, proj, [e.digest for e in snap.entries] + content.object_digests())
        result = c.data.add_version(
            project=proj, name=dataset, content=content, message=message, parents=parent_refs
        )
    v = result.version
    head = VersionHead.of(v)
    written = _write_pointer(snap.path, head) if pointer else None
    return Added(head, result.created, written, client=c, version=v)


def _write_pointer(target: Path, head: VersionHead) -> Path:
    return write_pointer(target, Pointer(head.project, head.dataset, head.number, head.digest, target.name))


class VersionHandle:
    """A version, readable: ``to_arrow()``, ``to_pandas()``, ``path()``, ``open(name)``, ``files()``."""

    def __init__(self, version: DatasetVersion, client: Client) -> None:
        self.version = version
        self._client = client

    def __repr__(self) -> str:
        return f"<VersionHandle {self.version.address} {self.version.kind}>"

    def to_arrow(self, columns: list[str] | None = None) -> Any:
        """The table (Parquet copy) as a pyarrow Table; ``columns`` reads only those."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.version.kind != "table":
            raise InvalidInput(f"{self.version.address} is a folder of files, not a table; use .path()")
        store = _artifacts(self._client)
        _fetch_version(self._client, store, self.version)
        parts = []
        for digest in self.version.table_parts:
            with store.open(digest) as handle:
                parts.append(pq.read_table(handle, columns=columns))
        return pa.concat_tables(parts)

    def to_pandas(self, columns: list[str] | None = None) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        return self.to_arrow(columns).to_pandas()

    def sample(self) -> Any:
        """The stored uniform row sample (up to 100,000 rows) as a pyarrow Table."""
        import pyarrow.parquet as pq

        if not self.version.sample_digest:
            raise InvalidInput(f"{self.version.address} has no row sample (it is not a table)")
        store = _artifacts(self._client)
        _fetch_version(self._client, store, self.version, include="")
        with store.open(self.version.sample_digest) as handle:
            return pq.read_table(handle)

    def files(self) -> list[Any]:
        """The version's files: (path, digest, size, mode) entries."""
        from keel.data.diff import version_entries

        store = _artifacts(self._client)
        _fetch(self._client, store, self.version.project, [self.version.digest])
        return version_entries(store, self.version)

    def open(self, name: str) -> BinaryIO:
        """One file of the version by its relative path, for reading."""
        for entry in self.files():
            if entry.path == name:
                store = _artifacts(self._client)
                _fetch(self._client, store, self.version.project, [entry.digest])
                return store.open(entry.digest)  # type: ignore[no-any-return]
        raise InvalidInput(f"{self.version.address} has no file {name!r}")

    def path(self) -> Path:
        """A local folder holding the version's files (checked out once into a cache folder)."""
        c = self._client
        store = _artifacts(c)
        if c.settings and c.settings.home_path and not _is_remote(c):
            base = c.settings.home_path / "cache" / "data"
        else:
            base = Path(store.url).parent / "data"
        target = base / self.version.digest
        if not target.exists():
            _fetch_version(c, store, self.version)
            staging = target.with_name(target.name + f".tmp{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            _materialise(store, self.version, staging, include=None, force=True, hardlink=False)
            staging.replace(target)
        return target


def get(address: str, *, project: str | None = None, client: Client | None = None) -> VersionHandle:
    """A handle on a version: ``keel.data.get("churn-train@latest").to_pandas()``."""
    c = _client(client)
    return VersionHandle(resolve(address, project=project, client=c), c)


def _materialise(
    artifacts: Any, version: DatasetVersion, dest: Path, *, include: str | None, force: bool, hardlink: bool
) -> int:
    from keel.data.diff import version_entries

    entries = version_entries(artifacts, version)
    chosen = [e for e in entries if include is None or fnmatch.fnmatchcase(e.path, include)]
    if not chosen:
        raise InvalidInput(f"no file of {version.address} matches {include!r}")
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"{dest} is a file; checkout writes into a folder")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise Conflict(f"{dest} is not empty", hint="choose an empty folder, or pass --force to overwrite")
    if hardlink:
        return _hardlink(artifacts, chosen, dest, force)
    if version.layout == "tree":
        return int(artifacts.checkout_tree(version.digest, dest, include=include, force=force))
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / version.source_name
    if target.exists():
        target.unlink()
    artifacts.get_file(version.digest, target)
    return 1


def _hardlink(artifacts: Any, entries: list[Any], dest: Path, force: bool) -> int:
    """Hard links to the store's objects: no copy, but editing a linked file corrupts the store."""
    missing = {e.digest for e in entries} - artifacts.exists({e.digest for e in entries})
    if missing:
        raise InvalidInput(f"{len(missing)} object(s) are not in the local store; pull them first")
    for entry in entries:
        source = artifacts.backend.local_path(entry.digest)
        if source is None:
            raise InvalidInput("hard links need a local artifact store")
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and force:
            target.unlink()
        os.link(source, target)
    return len(entries)


@dataclass
class CheckedOut:
    """What :func:`checkout` wrote."""

    version: DatasetVersion
    dest: Path
    files: int


def checkout(
    target: str,
    dest: str | Path | None = None,
    *,
    include: str | None = None,
    force: bool = False,
    hardlink: bool = False,
    project: str | None = None,
    client: Client | None = None,
) -> CheckedOut:
    """Write a version's files (verified; reflink, else copy) into ``dest``.

    ``target`` is an address or a pointer file (``data/images.keel``), which
    restores the data beside the pointer. A non-empty ``dest`` needs ``force``.
    """
    c = _client(client)
    version = resolve(target, project=project, client=c)
    artifacts = _artifacts(c)
    _fetch_version(c, artifacts, version, include)
    if dest is None:
        if not target.endswith(SUFFIX):
            raise InvalidInput("say where to check out: keel data checkout NAME@vN DEST")
        located = data_path(Path(target), read_pointer(Path(target)))
        folder = located if version.layout == "tree" else located.parent
        if version.layout == "file":
            written = _restore_file(artifacts, version, located, force)
            return CheckedOut(version, located, written)
        return CheckedOut(
            version,
            folder,
            _materialise(artifacts, version, folder, include=include, force=force, hardlink=hardlink),
        )
    out = Path(dest)
    return CheckedOut(
        version, out, _materialise(artifacts, version, out, include=include, force=force, hardlink=hardlink)
    )


def _restore_file(artifacts: Any, version: DatasetVersion, target: Path, force: bool) -> int:
    if target.exists():
        if target.is_dir():
            raise InvalidInput(f"{target} is a folder; the pointer names a file")
        if not force:
            raise Conflict(f"{target} exists already", hint="pass --force to overwrite it")
        target.unlink()
    artifacts.get_file(version.digest, target)
    return 1


class Status(_NamesVersion):
    """How a path on disk differs from the latest version of its dataset (``head``, ``version``)."""

    def __init__(
        self,
        path: Path,
        head: VersionHead,
        changes: list[FileChange],
        *,
        client: Client,
        version: DatasetVersion | None = None,
    ) -> None:
        super().__init__(head, client, version)
        self.path = path
        self.changes = changes

    @property
    def clean(self) -> bool:
        return not self.changes

    def __repr__(self) -> str:
        return f"<Status {self.path} vs {self.head.address}: {len(self.changes)} change(s)>"


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
    """
    c = _client(client)
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
        proj, dataset = _project(parsed, project), parsed.name
    version: DatasetVersion | None = None
    head = _quick_head(c, proj, dataset)
    if head is None:
        version = c.data.version(project=proj, name=dataset, version="latest")
        head = VersionHead.of(version)
    from keel.data.build import snapshot
    from keel.data.diff import file_changes, version_entries

    artifacts = _artifacts(c)
    snap = snapshot(source, artifacts)
    _fetch(c, artifacts, head.project, [head.digest])
    changes = (
        [] if snap.digest == head.digest else file_changes(version_entries(artifacts, head), snap.entries)
    )
    return Status(snap.path, head, changes, client=c, version=version)


def _version_digests(version: DatasetVersion) -> list[str]:
    found = [version.digest, *version.table_parts]
    if version.sample_digest:
        found.append(version.sample_digest)
    return found


def _stores_for_transfer(c: Client, remote: str) -> tuple[Any, Any]:
    """This workspace's store and the named remote's, for push and pull (never through a server)."""
    from keel.artifacts.remotes import get_remote, open_remote

    if _is_remote(c):
        raise NotSupportedRemotely(
            "push and pull move objects between a workspace and a remote; this client talks to a server",
            hint="against a server, `keel data add` uploads the bytes and reads download them",
        )
    store = open_remote(get_remote(c.settings.config_tables if c.settings else {}, remote))
    return _artifacts(c), store


def push(
    remote: str,
    address: str | None = None,
    *,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> Any:
    """Copy to a named remote the objects it lacks: of one version, or of every dataset's versions."""
    from keel.artifacts.transfer import transfer

    c = _client(client)
    local, store = _stores_for_transfer(c, remote)
    return transfer(local, store, _digests(c, address, project), progress=progress)


def pull(
    remote: str,
    address: str,
    *,
    include: str | None = None,
    project: str | None = None,
    progress: Progress | None = None,
    client: Client | None = None,
) -> Any:
    """Copy from a named remote the objects of a version this store lacks (only files matching ``include``)."""
    from keel.artifacts.transfer import transfer

    c = _client(client)
    local, store = _stores_for_transfer(c, remote)
    version = resolve(address, project=project, client=c)
    if include is None:
        return transfer(store, local, _version_digests(version), progress=progress)
    if version.layout == "tree" and not local.exists([version.digest]):
        local.put_object(version.digest, store.iter_bytes(version.digest))  # only the manifest, to list files
        local.sync()
    from keel.data.diff import version_entries

    entries = [e for e in version_entries(local, version) if fnmatch.fnmatchcase(e.path, include)]
    if not entries:
        raise InvalidInput(f"no file of {version.address} matches {include!r}")
    return transfer(store, local, sorted({e.digest for e in entries}), progress=progress)


def _digests(c: Client, address: str | None, project: str | None) -> list[str]:
    if address is not None:
        return _version_digests(resolve(address, project=project, client=c))
    proj = _project(Address(None, "*", "latest"), project)
    digests: list[str] = []
    for dataset in _all(lambda token: c.data.ls(project=proj, page_token=token)):
        name = dataset.name
        for version in _all(lambda token: c.data.log(project=proj, name=name, page_token=token)):  # noqa: B023
            digests += _version_digests(version)
    return sorted(set(digests))


def _all(fetch: Callable[[str | None], Any]) -> list[Any]:
    items: list[Any] = []
    token = None
    while True:
        page = fetch(token)
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items


def ls(*, project: str | None = None, client: Client | None = None) -> list[Dataset]:
    """Every dataset of the project."""
    c = _client(client)
    proj = _project(Address(None, "*", "latest"), project)
    return _all(lambda token: c.data.ls(project=proj, page_token=token))


def show(address: str, *, project: str | None = None, client: Client | None = None) -> DatasetVersion:
    """One version: schema, profile, files summary, digest."""
    return resolve(address, project=project, client=client)


def log(name: str, *, project: str | None = None, client: Client | None = None) -> list[DatasetVersion]:
    """A dataset's versions, newest first."""
    c = _client(client)
    parsed = split_address(name)
    proj = _project(parsed, project)
    return _all(lambda token: c.data.log(project=proj, name=parsed.name, page_token=token))


def diff(
    before: str,
    after: str,
    *,
    key: list[str] | None = None,
    examples: int = 5,
    project: str | None = None,
    client: Client | None = None,
) -> VersionDiff:
    """Compare two versions (of one dataset or two, in one project); ``key`` adds a row diff."""
    c = _client(client)
    a, b = split_address(before), split_address(after)
    proj = _project(a, project)
    if _project(b, proj) != proj:
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
    c = _client(client)
    parsed = split_address(address)
    return c.data.tag(
        project=_project(parsed, project),
        name=parsed.name,
        version=parsed.selector,
        tag=tag_name,
        force=force,
    )


def rm(name: str, *, project: str | None = None, client: Client | None = None) -> Dataset:
    """Remove a dataset (soft); its objects become collectable by ``keel artifacts gc``."""
    c = _client(client)
    parsed = split_address(name)
    return c.data.rm(project=_project(parsed, project), name=parsed.name)


def lineage(
    address: str, *, depth: int = 5, project: str | None = None, client: Client | None = None
) -> LineageView:
    """What a version came from and which runs (and later models) used it."""
    c = _client(client)
    parsed = split_address(address)
    return c.data.lineage(
        project=_project(parsed, project), name=parsed.name, version=parsed.selector, depth=depth
    )
