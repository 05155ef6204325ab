"""What a put leaves in the reference table, and who may read what through it.

A folder put references the tree alone, whichever way it came (the local
fast path or the operations a server client uses), so removing the tree
releases its files; references of any owner that carry a project's id make
the objects readable to that project.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from keel.artifact_service import ArtifactService
from keel.artifact_service.paths import upload_path
from keel.artifacts.model import ObjectInfo
from keel.artifacts.references import ArtifactRef, add_refs, referenced_digests
from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import ByteStream


def _service(client: Client) -> ArtifactService:
    svc = client.backend.service(ArtifactService)  # type: ignore[attr-defined]
    assert isinstance(svc, ArtifactService)
    return svc


def _rows(client: Client) -> set[tuple[str, str, str | None]]:
    with _service(client).store.read() as session:
        return {(r.digest, r.owner, r.project_id) for r in session.query(ArtifactRef)}


def _folder(tmp_path: Path, name: str = "imgs") -> Path:
    src = tmp_path / name
    (src / "sub").mkdir(parents=True, exist_ok=True)
    (src / "a.png").write_bytes(b"aaa")
    (src / "sub" / "b.png").write_bytes(b"bbb")
    (src / "sub" / "same.png").write_bytes(b"aaa")
    return src


def _upload_ops(client: Client, project: str) -> dict[str, Any]:
    def upload(chunks: Iterable[bytes], tree: str | None) -> ObjectInfo:
        return client.artifacts.upload(project=project, data=ByteStream(chunks), tree=tree)

    return {"exists": lambda ds: client.artifacts.exists(project=project, digests=ds), "upload": upload}


def test_a_folder_put_through_the_operations_leaves_the_same_refs_as_put_path(
    make_keel: Any, tmp_path: Path
) -> None:
    seen = []
    for way in ("put_path", "operations"):
        c: Client = make_keel()
        c.projects.create(name="vision")
        if way == "put_path":
            result = _service(c).put_path("vision", _folder(tmp_path))
        else:
            result = upload_path(_folder(tmp_path), **_upload_ops(c, "vision"))
        project_id = c.projects.get(name="vision").id
        seen.append(
            {(d, o.replace(project_id, "P"), p and p.replace(project_id, "P")) for d, o, p in _rows(c)}
        )
        assert [r.digest for r in c.artifacts.refs(project="vision").items] == [result.digest]
    assert seen[0] == seen[1]
    assert len(seen[0]) == 3  # the project's reference to the tree, the tree's two distinct files


def test_removing_a_folder_put_releases_its_files(client: Client, tmp_path: Path) -> None:
    result = upload_path(_folder(tmp_path), **_upload_ops(client, "vision"))
    files = [e.digest for e in client.artifacts.ls_tree(project="vision", digest=result.digest)]
    client.artifacts.remove(project="vision", digest=result.digest)
    assert client.artifacts.refs(project="vision").items == []
    assert client.artifacts.exists(project="vision", digests=files) == []
    with _service(client).store.read() as session:
        assert referenced_digests(session) == set()  # gc may now reclaim the files
    report = client.artifacts.gc(grace_s=0)
    assert set(report.deleted_digests) == {result.digest, *files}
    assert _rows(client) == set()  # the tree's contents rows went with the tree


def test_an_interrupted_folder_put_resumes_and_its_files_are_not_referenced(
    client: Client, tmp_path: Path
) -> None:
    src = _folder(tmp_path)
    ops = _upload_ops(client, "vision")
    real_upload = ops["upload"]
    calls: list[str | None] = []

    def fail_on_manifest(chunks: Iterable[bytes], tree: str | None) -> ObjectInfo:
        calls.append(tree)
        if tree is None:
            raise ConnectionError("network went away")
        return real_upload(chunks, tree)  # type: ignore[no-any-return]

    with pytest.raises(ConnectionError):
        upload_path(src, exists=ops["exists"], upload=fail_on_manifest)
    assert len(calls) == 3  # two distinct files, then the manifest
    assert client.artifacts.refs(project="vision").items == []
    with _service(client).store.read() as session:
        assert referenced_digests(session) == set()
    calls.clear()
    result = upload_path(src, exists=ops["exists"], upload=_counting(ops, calls))
    assert calls == [None]  # the files were uploaded already: only the manifest moves
    assert [r.digest for r in client.artifacts.refs(project="vision").items] == [result.digest]
    assert all(p is None for _, o, p in _rows(client) if o.startswith("artifact:"))


def _counting(ops: dict[str, Any], calls: list[str | None]) -> Any:
    def upload(chunks: Iterable[bytes], tree: str | None) -> ObjectInfo:
        calls.append(tree)
        return ops["upload"](chunks, tree)  # type: ignore[no-any-return]

    return upload


def test_a_staged_file_is_not_readable_by_other_projects(client: Client) -> None:
    tree = "d" * 64
    info = client.artifacts.upload(project="vision", data=ByteStream([b"staged bytes"]), tree=tree)
    assert client.artifacts.exists(project="vision", digests=[info.digest]) == [info.digest]
    assert client.artifacts.exists(project="other", digests=[info.digest]) == []
    with pytest.raises(InvalidInput, match="not a BLAKE3 digest"):
        client.artifacts.upload(project="vision", data=ByteStream([b"x"]), tree="../evil")


def test_refs_of_runs_and_dataset_versions_with_the_project_id_are_readable(client: Client) -> None:
    svc = _service(client)
    run_obj = svc.artifacts.put_bytes(b"a run's model")
    version_obj = svc.artifacts.put_bytes(b"a dataset version's file")
    anonymous = svc.artifacts.put_bytes(b"referenced without a project")
    project_id = client.projects.get(name="vision").id
    with svc.store.write() as session:
        add_refs(session, [(run_obj, "run:r1")], project_id=project_id)
        add_refs(session, [(version_obj, "dataset_version:v1")], project_id=project_id)
        add_refs(session, [(anonymous, "run:r2")])
    wanted = [run_obj, version_obj, anonymous]
    assert client.artifacts.exists(project="vision", digests=wanted) == sorted([run_obj, version_obj])
    assert client.artifacts.download(project="vision", digest=run_obj).read_all() == b"a run's model"
    assert client.artifacts.exists(project="other", digests=wanted) == []
    with pytest.raises(NotFound):
        client.artifacts.stat(project="vision", digest=anonymous)


def test_a_run_referencing_a_recorded_tree_makes_its_files_readable(client: Client, tmp_path: Path) -> None:
    from keel.artifacts.references import record_tree

    svc = _service(client)
    tree = svc.artifacts.put_tree(_folder(tmp_path))
    files = sorted({e.digest for e in svc.artifacts.read_tree(tree.digest)})
    project_id = client.projects.get(name="vision").id
    with svc.store.write() as session:
        add_refs(session, [(tree.digest, "run:r1")], project_id=project_id)
        record_tree(session, tree.digest, files)
    assert client.artifacts.exists(project="vision", digests=files) == files
    assert client.artifacts.exists(project="other", digests=files) == []


def test_visibility_is_one_query_and_never_lists_the_store(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(client)
    for i in range(20):
        svc.put_path("vision", _folder(tmp_path, f"set{i}"))

    def no_listing(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a visibility check must not read trees or list the store")

    monkeypatch.setattr(type(svc.artifacts), "read_tree", no_listing)
    monkeypatch.setattr(type(svc.artifacts), "is_tree", no_listing)
    monkeypatch.setattr(type(svc.artifacts), "iter_objects", no_listing)
    assert client.artifacts.exists(project="other", digests=["e" * 64]) == []
    assert client.artifacts.exists(project="vision", digests=["e" * 64]) == []
