"""Artifact operations: REST routes and SDK calls are derived from these definitions.

Every operation is scoped to a project (``/api/v1/projects/{project}/...``):
uploading references the object from the project, and reading needs the
project's references to reach the object. An object the project cannot
reach answers 404 exactly as an unknown one does, so probing digests reveals
nothing. Uploads stream in constant memory (``ByteStream`` both ways); each
upload is synced (one syncfs) before its reference commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from sqlalchemy import select

from keel.artifact_service.schemas import ArtifactStat, PutResult, StoredRef
from keel.artifact_service.visibility import visible
from keel.artifacts.digest import CHUNK, check_digest, check_digests, new_hasher
from keel.artifacts.files import hash_reader
from keel.artifacts.fsck import FsckReport
from keel.artifacts.fsck import fsck as run_fsck
from keel.artifacts.gc import DEFAULT_GRACE_S, GcReport, collect_garbage
from keel.artifacts.model import ObjectInfo, TreeEntry
from keel.artifacts.references import (
    TREE_OWNER,
    ArtifactRef,
    add_refs,
    forget_objects,
    record_tree,
    referenced_digests,
    remove_refs,
)
from keel.artifacts.store import ArtifactStore
from keel.artifacts.tree import decode_tree
from keel.context import Service
from keel.core.constraints import Digest, GraceSeconds, Limit, PageToken
from keel.core.errors import CorruptObject, InvalidInput, NotFound
from keel.core.operations import GLOBAL, Action, ByteStream, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.projects.service import find_project

_PREFIX = "/api/v1/projects/{project}"
#: Objects up to this size are verified before a download sends a byte (held in memory meanwhile).
VERIFY_FIRST: Final = 16 << 20


def _on_the_server(digest: str) -> CorruptObject:
    return CorruptObject(
        f"object {digest} is corrupt on the server",
        hint="an administrator can run `keel artifacts fsck` there; putting the intact file again repairs it",
    )


def _held_back(store: ArtifactStore, digest: str) -> Iterator[bytes]:
    """The object's chunks, hashed as they go, the last one sent only once the whole hash checks.

    On a mismatch the stream ends short of its Content-Length (the server
    raises instead of sending the last chunk), so no client takes the bytes
    for whole; :func:`keel.artifact_service.paths.download_verified` then
    reports "object … is corrupt on the server".
    """
    hasher = new_hasher()
    pending: bytes | None = None
    with store.open(digest, verify=False) as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            hasher.update(chunk)
            if pending is not None:
                yield pending
            pending = chunk
    if str(hasher.hexdigest()) != digest:
        store.backend.quarantine(digest)
        raise _on_the_server(digest)
    if pending is not None:
        yield pending


class ArtifactService(Service):
    """Heavy bytes by digest: upload, download, trees, references; gc and fsck for administrators."""

    name = "artifacts"

    @property
    def artifacts(self) -> ArtifactStore:
        return self.ctx.artifacts

    # -- helpers -----------------------------------------------------------
    def _project_id(self, project: str) -> str:
        with self.store.read() as session:
            return str(find_project(session, project).id)

    def _visible(self, project_id: str, digests: list[str]) -> set[str]:
        with self.store.read() as session:
            return visible(session, project_id, digests)

    def _require_visible(self, project: str, digest: str) -> str:
        check_digest(digest)
        project_id = self._project_id(project)
        if digest not in self._visible(project_id, [digest]) or not self.artifacts.exists([digest]):
            if digest in self._visible(project_id, [digest]) and self.artifacts.quarantined([digest]):
                raise _on_the_server(digest)
            raise NotFound(
                f"no artifact {digest} in project {project!r}",
                hint=f"see `keel artifacts ls --project {project}`",
            )
        return project_id

    def _tree_entries(self, digest: str) -> list[str] | None:
        """The digests a stored tree names; None if the object is not a tree.

        Bytes that start like a manifest must be a valid one: a tree that could
        never be checked out (an entry with ``..``, an absolute path, an entry
        under ``.keel/``) is refused with InvalidInput naming the entry, before
        anything references it (the unreferenced object is left to gc).
        """
        if not self.artifacts.is_tree(digest):
            return None
        try:
            entries = decode_tree(self.artifacts.read_bytes(digest), digest)
        except InvalidInput as exc:
            raise InvalidInput(
                f"refused: the upload is a tree manifest that cannot be checked out: {exc.message}",
                hint="tree entries are relative paths without '..' parts, outside .keel/",
            ) from None
        return sorted({e.digest for e in entries})

    def _check_tree_entries(self, project_id: str, wanted: list[str]) -> None:
        """A tree may only name objects the project can read, or its digest would leak them."""
        missing = sorted(set(wanted) - self.artifacts.exists(wanted))
        hidden = sorted(set(wanted) - set(missing) - self._visible(project_id, wanted))
        if missing or hidden:
            first = (missing or hidden)[0]
            raise NotFound(
                f"the uploaded tree names {len(missing) + len(hidden)} object(s) this project does not have, "
                f"e.g. {first}",
                hint="upload the tree's files first, then the manifest",
            )

    def _reference(self, project_id: str, digest: str, tree_entries: list[str] | None) -> None:
        """The references a put leaves, the same whichever way it came: the project's to the object,
        and (for a tree) the tree's contents."""
        self.artifacts.sync()
        with self.store.write() as session:
            add_refs(session, [(digest, f"project:{project_id}")], project_id=project_id)
            if tree_entries is not None:
                record_tree(session, digest, tree_entries)

    # -- operations ----------------------------------------------------------
    @operation(
        "POST", _PREFIX + "/artifacts", action=Action.WRITE, project=project_from("project"), status_code=201
    )
    def upload(self, project: str, data: ByteStream, tree: Digest | None = None) -> ObjectInfo:
        """Store the request body as an object and reference it from the project.

        A tree manifest is accepted only if every object it names is already
        readable through the project. With ``tree`` (the digest of a folder's
        manifest, to be uploaded last) the object is a file of that folder:
        the project may read it, but only the tree will be referenced, so
        removing the tree later releases its files.
        """
        if tree is not None:
            check_digest(tree)
        project_id = self._project_id(project)
        info = self.artifacts.put_stream(data)
        entries = self._tree_entries(info.digest)
        if entries is not None:
            self._check_tree_entries(project_id, entries)
        if tree is None:
            self._reference(project_id, info.digest, entries)
            return info
        self.artifacts.sync()
        with self.store.write() as session:
            add_refs(session, [(info.digest, TREE_OWNER + tree)], project_id=project_id)
        return info

    @operation("GET", _PREFIX + "/artifacts/{digest}", action=Action.READ, project=project_from("project"))
    def download(self, project: str, digest: Digest) -> ByteStream:
        """Stream an object's bytes, verified against its digest.

        An object up to :data:`VERIFY_FIRST` bytes is verified before a byte is
        sent, so a corrupt one is answered with an error (CorruptObject,
        "object … is corrupt on the server"). A larger one is hashed as it
        streams and its last chunk is held back until the hash checks: a
        corrupt one ends the stream short, and ``stat(verify=True)`` tells the
        client why (:func:`keel.artifact_service.paths.download_verified`).
        """
        self._require_visible(project, digest)
        size = self.artifacts.size(digest)
        if size <= VERIFY_FIRST:
            try:
                data = self.artifacts.read_bytes(digest, verify=True)
            except CorruptObject as exc:
                raise _on_the_server(digest) from exc
            return ByteStream([data], size=len(data))
        return ByteStream(_held_back(self.artifacts, digest), size=size)

    @operation(
        "GET", _PREFIX + "/artifacts/{digest}/stat", action=Action.READ, project=project_from("project")
    )
    def stat(self, project: str, digest: Digest, verify: bool = False) -> ArtifactStat:
        """An object's size and whether it is a tree; with ``verify``, whether its bytes are intact (a full read).

        A corrupt object found so is set aside, so putting the intact file again repairs it.
        """
        self._require_visible(project, digest)
        stat = ArtifactStat(
            digest=digest, size=self.artifacts.size(digest), tree=self.artifacts.is_tree(digest)
        )
        if not verify:
            return stat
        with self.artifacts.open(digest, verify=False) as handle:
            intact = hash_reader(handle) == digest
        if not intact:
            self.artifacts.backend.quarantine(digest)
        return stat.model_copy(update={"intact": intact})

    @operation("POST", _PREFIX + "/artifacts/exists", action=Action.READ, project=project_from("project"))
    def exists(self, project: str, digests: list[Digest]) -> list[str]:
        """Which of ``digests`` the project can read already (so a client skips uploading them)."""
        wanted = check_digests(digests)
        if len(wanted) > 10_000:
            raise InvalidInput(f"at most 10000 digests per call, got {len(wanted)}")
        project_id = self._project_id(project)
        readable = self._visible(project_id, wanted)
        return sorted(self.artifacts.exists(sorted(readable)))

    @operation("GET", _PREFIX + "/trees/{digest}", action=Action.READ, project=project_from("project"))
    def ls_tree(self, project: str, digest: Digest) -> list[TreeEntry]:
        """The files of a tree: path, digest, size and mode, sorted by path."""
        self._require_visible(project, digest)
        return self.artifacts.read_tree(digest)

    @operation("GET", _PREFIX + "/artifacts", action=Action.READ, project=project_from("project"))
    def refs(
        self, project: str, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None
    ) -> Page[StoredRef]:
        """The objects the project references (by digest), a page at a time."""
        check_page_size(limit)
        project_id = self._project_id(project)
        owner = f"project:{project_id}"
        query = select(ArtifactRef).where(ArtifactRef.owner == owner).order_by(ArtifactRef.digest)
        if page_token:
            after = token_position(page_token, "after", str)
            query = query.where(ArtifactRef.digest > after)
        with self.store.read() as session:
            rows = list(session.execute(query.limit(limit + 1)).scalars())
        items = [StoredRef(digest=r.digest, owner=r.owner, created_at=r.created_at) for r in rows[:limit]]
        token = encode_token({"after": items[-1].digest}) if len(rows) > limit else None
        return Page[StoredRef](items=items, next_token=token)

    @operation(
        "DELETE",
        _PREFIX + "/artifacts/{digest}",
        action=Action.WRITE,
        project=project_from("project"),
        status_code=204,
    )
    def remove(self, project: str, digest: Digest) -> None:
        """Drop the project's reference to an object; gc reclaims it once nothing else references it."""
        check_digest(digest)
        project_id = self._project_id(project)
        with self.store.write() as session:
            if not remove_refs(session, f"project:{project_id}", [digest]):
                raise NotFound(f"project {project!r} does not reference {digest}")
            self.ctx.audit(
                session, "artifact.remove", f"artifact:{digest}", project_id=project_id, project=project
            )

    @operation("POST", "/api/v1/artifacts/gc", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def gc(self, grace_s: GraceSeconds = DEFAULT_GRACE_S, dry_run: bool = False) -> GcReport:
        """Delete objects that no reference reaches and that are older than the grace period."""
        if grace_s < 0:
            raise InvalidInput(f"grace_s must not be negative, got {grace_s}")
        started = utcnow()
        with self.store.read() as session:
            roots = referenced_digests(session)
        report = collect_garbage(self.artifacts, roots, grace_s=grace_s, dry_run=dry_run)
        if not dry_run:
            with self.store.write() as session:
                if report.deleted_digests:
                    forget_objects(session, report.deleted_digests, before=started)
                self.ctx.audit(
                    session,
                    "artifact.gc",
                    "artifacts",
                    deleted=report.deleted,
                    freed_bytes=report.freed_bytes,
                    grace_s=grace_s,
                )
        return report

    @operation("POST", "/api/v1/artifacts/fsck", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def fsck(self) -> FsckReport:
        """Re-hash every object and check every tree; the report names each bad one."""
        return run_fsck(self.artifacts)

    # -- local only (a path on this machine is never an operation input) -----
    def put_path(
        self, project: str, path: Path, *, progress: Callable[[int, int], None] | None = None
    ) -> PutResult:
        """Store a local file or folder and reference it from ``project``."""
        project_id = self._project_id(project)
        entries: list[str] | None = None
        if path.is_dir():
            tree = self.artifacts.put_tree(path, progress=progress)
            result = PutResult(digest=tree.digest, size=tree.size, files=tree.files, tree=True)
            entries = sorted({e.digest for e in self.artifacts.read_tree(tree.digest)})
        elif path.exists():
            info = self.artifacts.put_file(path)
            result = PutResult(digest=info.digest, size=info.size, files=1, tree=False)
        else:
            raise NotFound(f"no such file or folder: {path}")
        self._reference(project_id, result.digest, entries)
        return result
