"""Run artifacts: files a run produced, stored in the content-addressed store and referenced by the run.

An upload streams into the artifact store (constant memory), the store is
synced, and only then does the row naming it commit, together with a
garbage-collection reference owned by ``run:<id>`` (carrying the run's
project id, so the project's readers may read the object) and the lineage edge
``artifact:<digest> --produced_by--> run:<id>``. Paths are normalised;
``..``, absolute paths and backslashes are refused.
"""

from __future__ import annotations

import posixpath

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.constraints import ArtifactPath, IdOrPrefix, Limit, PageToken
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import GLOBAL, Action, ByteStream, operation
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.lineage import add_edges
from keel.tracking.guard import RunGuard
from keel.tracking.models import RunArtifactRow
from keel.tracking.read import find_run
from keel.tracking.schemas import RunArtifact
from keel.tracking.write import _insert


def clean_path(path: str) -> str:
    """A relative POSIX path inside the run; InvalidInput naming the path otherwise."""
    if not path or "\\" in path or path.startswith("/") or "\x00" in path:
        raise InvalidInput(f"artifact path {path!r} must be relative, with '/' separators")
    normal = posixpath.normpath(path)
    if normal == "." or normal.startswith("../") or normal == ".." or len(normal) > 500:
        raise InvalidInput(f"artifact path {path!r} leaves the run's folder or is too long")
    return normal


def register_artifact(
    session: Session, run_id: str, project_id: str, path: str, digest: str, size: int
) -> RunArtifact:
    """Record a stored object as a run's artifact: the row, the run's reference, the lineage edge."""
    from keel.artifacts import add_refs

    now = utcnow()
    stmt = _insert(session)(RunArtifactRow).values(
        run_id=run_id, path=path, digest=digest, size=size, created_at=now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["run_id", "path"],
        set_={"digest": stmt.excluded.digest, "size": stmt.excluded.size, "created_at": now},
    )
    session.execute(stmt)
    add_refs(session, [(digest, f"run:{run_id}")], project_id=project_id)
    add_edges(session, [(f"artifact:{digest}", "produced_by", f"run:{run_id}")])
    return RunArtifact(path=path, digest=digest, size=size, created_at=now)


class RunArtifactOps(RunGuard):
    """The artifact operations of the runs service."""

    @operation("PUT", "/api/v1/runs/{run_id}/artifacts", action=Action.AUTHENTICATED, project=GLOBAL)
    def upload_artifact(self, run_id: IdOrPrefix, path: ArtifactPath, body: ByteStream) -> RunArtifact:
        """Store a file as an artifact of a run (the body is the file's bytes, streamed)."""
        path = clean_path(path)
        with self.store.read() as session:
            run_id = self._run(session, run_id, Action.WRITE).id
        artifacts = self.ctx.artifacts
        info = artifacts.put_stream(iter(body))
        artifacts.sync()
        return self._register(run_id, path, info.digest, info.size)

    def _register(self, run_id: str, path: str, digest: str, size: int) -> RunArtifact:
        with self.store.write() as session:
            project_id = find_run(session, run_id).project_id
            return register_artifact(session, run_id, project_id, path, digest, size)

    @operation("GET", "/api/v1/runs/{run_id}/artifacts", action=Action.AUTHENTICATED, project=GLOBAL)
    def list_artifacts(
        self,
        run_id: IdOrPrefix,
        prefix: str | None = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
    ) -> Page[RunArtifact]:
        """The artifacts of a run by path (optionally those under ``prefix``), a page at a time.

        A page like every other listing's (a run may log thousands of files):
        pass ``next_token`` back as ``page_token`` for the next one.
        """
        check_page_size(limit)
        with self.store.read() as session:
            run_id = self._run(session, run_id, Action.READ).id
            query = (
                select(RunArtifactRow)
                .where(RunArtifactRow.run_id == run_id)
                .order_by(RunArtifactRow.path)
                .limit(limit + 1)
            )
            if prefix:
                query = query.where(RunArtifactRow.path.startswith(clean_path(prefix), autoescape=True))
            if page_token:
                query = query.where(RunArtifactRow.path > token_position(page_token, "after", str))
            rows = list(session.execute(query).scalars())
        items = [
            RunArtifact(path=a.path, digest=a.digest, size=a.size, created_at=a.created_at)
            for a in rows[:limit]
        ]
        token = encode_token({"after": items[-1].path}) if len(rows) > limit else None
        return Page[RunArtifact](items=items, next_token=token)

    @operation("GET", "/api/v1/runs/{run_id}/artifacts/file", action=Action.AUTHENTICATED, project=GLOBAL)
    def download_artifact(self, run_id: IdOrPrefix, path: ArtifactPath) -> ByteStream:
        """The bytes of one artifact of a run, streamed and verified against its digest."""
        path = clean_path(path)
        with self.store.read() as session:
            run_id = self._run(session, run_id, Action.READ).id
            artifact = session.get(RunArtifactRow, (run_id, path))
            if artifact is None:
                raise NotFound(
                    f"run {run_id} has no artifact {path!r}", hint=f"see `keel run artifacts ls {run_id}`"
                )
            digest, size = artifact.digest, artifact.size
        return ByteStream(
            self.ctx.artifacts.iter_bytes(digest),
            size=size,
            filename=posixpath.basename(path),
        )
