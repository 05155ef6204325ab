"""Reading a package's manifest from the artifact store, and checking it against the stored tree.

Registration never trusts the client's word: the tree must be readable by
the project, hold ``keel-model.json``, and every file the manifest names must
be in the tree with the same digest and size (and nothing else), so the
registry's record and the bytes a later load verifies are the same thing.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.orm import Session

from keel.artifact_service.visibility import visible
from keel.artifacts.digest import check_digest
from keel.artifacts.model import TreeEntry
from keel.artifacts.store import ArtifactStore
from keel.core.errors import InvalidInput, NotFound
from keel.models.manifest import MANIFEST_NAME, Manifest


def read_package(
    session: Session, artifacts: ArtifactStore, project_id: str, digest: str
) -> tuple[Manifest, list[TreeEntry]]:
    """The manifest and tree entries of package ``digest``; NotFound or InvalidInput saying why not."""
    check_digest(digest)
    if not visible(session, project_id, [digest]) or not artifacts.exists([digest]):
        raise NotFound(
            f"no package {digest} in this project's artifacts", hint="upload the package folder first"
        )
    if not artifacts.is_tree(digest):
        raise InvalidInput(f"{digest} is a file, not a package folder (a tree)")
    entries = artifacts.read_tree(digest)
    by_path = {e.path: e for e in entries}
    if MANIFEST_NAME not in by_path:
        raise InvalidInput(f"package {digest} has no {MANIFEST_NAME}: it is not a model package")
    try:
        manifest = Manifest.model_validate_json(artifacts.read_bytes(by_path[MANIFEST_NAME].digest))
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "the document"
        raise InvalidInput(
            f"package {digest}: {MANIFEST_NAME}'s {where} is not valid: {error['msg']}"
        ) from None
    for path, entry in sorted(manifest.files.items()):
        stored = by_path.get(path)
        if stored is None:
            raise InvalidInput(f"package {digest}: its manifest names {path!r}, which the package lacks")
        if stored.digest != entry.digest or stored.size != entry.size:
            raise InvalidInput(f"package {digest}: {path!r} does not match the digest its manifest records")
    extra = sorted(set(by_path) - set(manifest.files) - {MANIFEST_NAME})
    if extra:
        raise InvalidInput(f"package {digest} holds {extra[0]!r}, which its manifest does not list")
    return manifest, entries
