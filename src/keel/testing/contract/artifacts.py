"""Contract: the artifact store behaves the same on a local folder and on S3, and the artifact
operations the same on SQLite, PostgreSQL and a remote server.

The S3 side runs against moto's threaded server on a loopback port that these
fixtures start and stop. Digests asserted here are BLAKE3 test values, so a
backend cannot pass by being consistently wrong.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, open_artifacts
from keel.client import Client, connect
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import ByteStream
from keel.core.settings import load_settings

HELLO = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"  # BLAKE3(b"hello")
EMPTY = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"  # BLAKE3(b"")
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-value",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible endpoint (moto's threaded server) on 127.0.0.1, for the session."""
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_url(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, unique: Callable[[str], str]) -> str:
    """A fresh bucket on the loopback endpoint, as ``s3://bucket/keel``; credentials in the environment."""
    for key, value in AWS_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    import s3fs

    bucket = unique("bkt").lower()
    s3fs.S3FileSystem(client_kwargs={"endpoint_url": s3_endpoint}, skip_instance_cache=True).mkdir(bucket)
    return f"s3://{bucket}/keel"


@pytest.fixture(params=["local", "s3"])
def artifact_store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    """An empty store: a local folder, then an S3 bucket."""
    if request.param == "local":
        return open_artifacts(str(tmp_path / "objects"), cache_dir=tmp_path / "cache")
    url = request.getfixturevalue("s3_url")
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_artifacts(url, cache_dir=tmp_path / "cache", options={"endpoint_url": endpoint})


# -- the store ---------------------------------------------------------------


def test_put_bytes_names_objects_by_blake3(artifact_store: ArtifactStore) -> None:
    assert artifact_store.put_bytes(b"hello") == HELLO
    assert artifact_store.put_bytes(b"") == EMPTY
    assert artifact_store.put_bytes(b"hello") == HELLO  # idempotent
    assert artifact_store.exists([HELLO, EMPTY, "0" * 64]) == {HELLO, EMPTY}
    with artifact_store.open(HELLO, verify=True) as handle:
        assert handle.read() == b"hello"


def test_put_file_and_stream_agree(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(3 << 20) + b"tail"
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    from_file = artifact_store.put_file(path)
    from_stream = artifact_store.put_stream(iter([data[:1000], data[1000:]]))
    assert from_file == from_stream
    assert from_file.size == len(data)
    out = tmp_path / "out" / "blob.bin"
    artifact_store.get_file(from_file.digest, out)
    assert out.read_bytes() == data


def test_tree_roundtrip(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"hello")
    (src / "same.txt").write_bytes(b"hello")
    (src / "bin" / "run.sh").write_bytes(b"")
    (src / "bin" / "run.sh").chmod(0o755)
    tree = artifact_store.put_tree(src)
    assert (tree.files, tree.size) == (3, 10)
    manifest = artifact_store.read_bytes(tree.digest)
    assert (
        manifest
        == (
            '{"keel_tree":1,"entries":['
            f'{{"digest":"{HELLO}","mode":420,"path":"a.txt","size":5}},'
            f'{{"digest":"{EMPTY}","mode":493,"path":"bin/run.sh","size":0}},'
            f'{{"digest":"{HELLO}","mode":420,"path":"same.txt","size":5}}]}}'
        ).encode()
    )
    assert [e.path for e in artifact_store.read_tree(tree.digest)] == ["a.txt", "bin/run.sh", "same.txt"]
    out = tmp_path / "out"
    assert artifact_store.checkout_tree(tree.digest, out) == 3
    assert (out / "bin" / "run.sh").stat().st_mode & 0o777 == 0o755
    assert (out / "same.txt").read_bytes() == b"hello"
    assert artifact_store.checkout_tree(tree.digest, tmp_path / "only", include="bin/*") == 1


def test_bad_digests_are_refused(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    for bad in ("abc", "G" * 64, HELLO.upper(), HELLO + "0"):
        with pytest.raises(InvalidInput, match="not a BLAKE3 digest"):
            artifact_store.open(bad)
    with pytest.raises(NotFound):
        artifact_store.get_file("1" * 64, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_transfer_moves_only_missing(artifact_store: ArtifactStore, tmp_path: Path) -> None:
    from keel.artifacts import transfer

    local = open_artifacts(str(tmp_path / "local"))
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"f{i}").write_bytes(f"file {i}".encode())
    tree = local.put_tree(src)
    first = transfer(local, artifact_store, [tree.digest])
    assert first.moved == 6
    again = transfer(local, artifact_store, [tree.digest])
    assert again.moved == 0 and again.present == 6
    back = open_artifacts(str(tmp_path / "back"))
    pulled = transfer(artifact_store, back, [tree.digest])
    assert pulled.moved == 6
    assert back.checkout_tree(tree.digest, tmp_path / "co") == 5


# -- the operations, on every metadata backend -------------------------------


@pytest.fixture(params=["sqlite", "postgres", "remote"])
def artifacts_client(request: pytest.FixtureRequest, tmp_path: Path) -> Client:
    """A Client whose workspace (or server) has an artifact store: local SQLite, PostgreSQL, remote."""
    from keel.testing.fixtures import new_workspace

    if request.param == "sqlite":
        return connect(settings=new_workspace(tmp_path / "ws"))
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        settings = load_settings(
            {"db_url": url, "artifacts_url": str(tmp_path / "objects")}, env={}, cwd=tmp_path
        )
        return connect(settings=settings)
    server = request.getfixturevalue("keel_server")
    token = getattr(server, "token", None)  # an admin's token once the server runs with auth
    return connect(settings=load_settings({"server_url": server.url, "token": token}, env={}, cwd=tmp_path))


def _project(client: Client, unique: Callable[[str], str]) -> str:
    name = unique("art")
    client.projects.create(name=name)
    return name


def test_upload_download_roundtrip(artifacts_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(artifacts_client, unique)
    body = os.urandom(300_000)
    info = artifacts_client.artifacts.upload(project=project, data=ByteStream(iter([body[:7], body[7:]])))
    assert info.size == len(body)
    got = artifacts_client.artifacts.download(project=project, digest=info.digest)
    assert got.read_all() == body
    stat = artifacts_client.artifacts.stat(project=project, digest=info.digest)
    assert (stat.size, stat.tree) == (len(body), False)
    refs = artifacts_client.artifacts.refs(project=project)
    assert [r.digest for r in refs.items] == [info.digest]


def test_objects_are_visible_only_through_referencing_projects(
    artifacts_client: Client, unique: Callable[[str], str]
) -> None:
    owner, other = _project(artifacts_client, unique), _project(artifacts_client, unique)
    secret = os.urandom(64)
    info = artifacts_client.artifacts.upload(project=owner, data=ByteStream([secret]))
    assert artifacts_client.artifacts.exists(project=owner, digests=[info.digest]) == [info.digest]
    assert artifacts_client.artifacts.exists(project=other, digests=[info.digest]) == []
    with pytest.raises(NotFound):
        artifacts_client.artifacts.download(project=other, digest=info.digest).read_all()
    with pytest.raises(NotFound):
        artifacts_client.artifacts.stat(project=other, digest=info.digest)


def test_tree_upload_needs_readable_entries(artifacts_client: Client, unique: Callable[[str], str]) -> None:
    from keel.artifacts.tree import encode_tree

    owner, other = _project(artifacts_client, unique), _project(artifacts_client, unique)
    file_info = artifacts_client.artifacts.upload(
        project=owner, data=ByteStream([b"payload " + os.urandom(8)])
    )
    manifest = encode_tree([("f.bin", file_info.digest, file_info.size, 0o644)])
    with pytest.raises(NotFound, match="does not have"):
        artifacts_client.artifacts.upload(project=other, data=ByteStream([manifest]))
    tree = artifacts_client.artifacts.upload(project=owner, data=ByteStream([manifest]))
    entries = artifacts_client.artifacts.ls_tree(project=owner, digest=tree.digest)
    assert [(e.path, e.digest) for e in entries] == [("f.bin", file_info.digest)]
    assert artifacts_client.artifacts.stat(project=owner, digest=tree.digest).tree


def _raw_manifest(path: str, digest: str, size: int) -> bytes:
    """A manifest in the canonical form, written by hand: the encoder itself refuses such paths."""
    import json

    entry = f'{{"digest":"{digest}","mode":420,"path":{json.dumps(path, ensure_ascii=False)},"size":{size}}}'
    return b'{"keel_tree":1,"entries":[' + entry.encode() + b"]}"


@pytest.mark.parametrize("path", ["../escape.txt", "a/../../escape.txt", "/etc/passwd", ".keel/config.toml"])
def test_trees_that_cannot_be_checked_out_are_refused_at_upload(
    artifacts_client: Client, unique: Callable[[str], str], path: str
) -> None:
    project = _project(artifacts_client, unique)
    payload = artifacts_client.artifacts.upload(
        project=project, data=ByteStream([b"payload " + os.urandom(8)])
    )
    before = [r.digest for r in artifacts_client.artifacts.refs(project=project).items]
    manifest = _raw_manifest(path, payload.digest, payload.size)
    with pytest.raises(InvalidInput, match="cannot be checked out") as refused:
        artifacts_client.artifacts.upload(project=project, data=ByteStream([manifest]))
    assert repr(path) in refused.value.message  # the entry is named
    assert refused.value.status == 422
    assert [r.digest for r in artifacts_client.artifacts.refs(project=project).items] == before


def test_remove_drops_the_reference(artifacts_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(artifacts_client, unique)
    info = artifacts_client.artifacts.upload(project=project, data=ByteStream([os.urandom(32)]))
    artifacts_client.artifacts.remove(project=project, digest=info.digest)
    assert artifacts_client.artifacts.refs(project=project).items == []
    with pytest.raises(NotFound):
        artifacts_client.artifacts.remove(project=project, digest=info.digest)


def test_operation_bad_inputs(artifacts_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(artifacts_client, unique)
    with pytest.raises(InvalidInput, match="not a BLAKE3 digest"):
        artifacts_client.artifacts.stat(project=project, digest="xyz")
    with pytest.raises(InvalidInput, match="not a BLAKE3 digest"):
        artifacts_client.artifacts.exists(project=project, digests=["nothex"])
    with pytest.raises(NotFound):
        artifacts_client.artifacts.stat(project=project, digest="2" * 64)
    with pytest.raises(NotFound):
        artifacts_client.artifacts.upload(project=unique("missing"), data=ByteStream([b"x"]))


def test_folder_put_references_only_the_tree(
    artifacts_client: Client, unique: Callable[[str], str], tmp_path: Path
) -> None:
    from keel.artifact_service.paths import download_tree, upload_path

    project, other = _project(artifacts_client, unique), _project(artifacts_client, unique)
    src = tmp_path / "folder"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(os.urandom(100))
    (src / "sub" / "b.bin").write_bytes(os.urandom(100))
    ops = artifacts_client.artifacts
    result = upload_path(
        src,
        exists=lambda digests: ops.exists(project=project, digests=digests),
        upload=lambda chunks, tree: ops.upload(project=project, data=ByteStream(chunks), tree=tree),
    )
    assert [r.digest for r in ops.refs(project=project).items] == [result.digest]
    files = sorted(e.digest for e in ops.ls_tree(project=project, digest=result.digest))
    assert ops.exists(project=project, digests=files) == files
    assert ops.exists(project=other, digests=files) == []

    def download(digest: str) -> ByteStream:
        return ops.download(project=project, digest=digest)

    assert download_tree(result.digest, tmp_path / "out", download=download) == 2
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    ops.remove(project=project, digest=result.digest)
    assert ops.refs(project=project).items == []
    assert ops.exists(project=project, digests=files) == []
