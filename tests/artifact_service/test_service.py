"""The artifact service in process: local puts of paths, visibility through trees, verified downloads."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.artifact_service import ArtifactService
from keel.client import Client
from keel.core.errors import CorruptObject, NotFound
from keel.core.operations import ByteStream, operations_of


def _service(client: Client) -> ArtifactService:
    svc = client.backend.service(ArtifactService)  # type: ignore[attr-defined]
    assert isinstance(svc, ArtifactService)
    return svc


def test_put_path_references_a_tree_whose_files_become_readable(client: Client, tmp_path: Path) -> None:
    src = tmp_path / "imgs"
    src.mkdir()
    (src / "a.png").write_bytes(b"aaa")
    result = _service(client).put_path("vision", src)
    assert (result.tree, result.files, result.size) == (True, 1, 3)
    entry = client.artifacts.ls_tree(project="vision", digest=result.digest)[0]
    assert client.artifacts.download(project="vision", digest=entry.digest).read_all() == b"aaa"
    assert client.artifacts.exists(project="vision", digests=[entry.digest]) == [entry.digest]
    assert client.artifacts.exists(project="other", digests=[entry.digest]) == []
    with pytest.raises(NotFound):
        client.artifacts.ls_tree(project="other", digest=result.digest)


def test_put_path_of_a_missing_file(client: Client, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no such file"):
        _service(client).put_path("vision", tmp_path / "nope")
    with pytest.raises(NotFound, match="no project"):
        _service(client).put_path("nope", tmp_path)


def test_download_of_a_corrupt_object_fails(client: Client) -> None:
    info = client.artifacts.upload(project="vision", data=ByteStream([b"original bytes"]))
    path = _service(client).artifacts.backend.local_path(info.digest)
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(b"different byte")
    with pytest.raises(CorruptObject):
        client.artifacts.download(project="vision", digest=info.digest).read_all()


def test_operations_declare_their_permissions() -> None:
    ops = operations_of(ArtifactService)
    assert {name: op.action.value for name, op in ops.items()} == {
        "download": "read",
        "exists": "read",
        "fsck": "global_admin",
        "gc": "global_admin",
        "ls_tree": "read",
        "refs": "read",
        "remove": "write",
        "stat": "read",
        "upload": "write",
    }
    assert ops["upload"].stream_param == "data" and ops["download"].streams_response
    assert all(op.project.field == "project" for name, op in ops.items() if name not in ("gc", "fsck"))


def test_exists_refuses_huge_batches(client: Client) -> None:
    from keel.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="at most 10000"):
        client.artifacts.exists(project="vision", digests=[f"{i:064x}" for i in range(10_001)])
