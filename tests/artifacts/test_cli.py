"""`keel artifacts` and `keel remote` as a user types them, locally, against S3, and against a server."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HELLO = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]) -> Path:
    monkeypatch.delenv("KEEL_ARTIFACTS_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    (tmp_path / "model.bin").write_bytes(b"hello")
    images = tmp_path / "images"
    (images / "cats").mkdir(parents=True)
    (images / "cats" / "1.png").write_bytes(b"cat one")
    (images / "dog.png").write_bytes(b"dog")
    return tmp_path


def test_put_get_ls_tree(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    put = keel_cli("artifacts", "put", "model.bin", "--project", "churn")
    assert put.code == 0, put.err
    assert put.out.strip() == HELLO
    tree = keel_cli("artifacts", "put", "images/", "--project", "churn", "--json")
    assert tree.code == 0, tree.err
    info = json.loads(tree.out)
    assert (info["files"], info["tree"]) == (2, True)
    listing = json.loads(keel_cli("artifacts", "ls-tree", info["digest"], "--json").out)
    assert [e["path"] for e in listing] == ["cats/1.png", "dog.png"]
    assert keel_cli("artifacts", "get", HELLO, "out.bin").code == 0
    assert (workspace / "out.bin").read_bytes() == b"hello"
    assert keel_cli("artifacts", "get", HELLO, "out.bin").code == 2  # exists; --force overwrites
    assert keel_cli("artifacts", "get", HELLO, "out.bin", "--force").code == 0
    assert keel_cli("artifacts", "get", info["digest"], "copy", "--include", "cats/*").code == 0
    assert [p.name for p in (workspace / "copy").rglob("*.png")] == ["1.png"]
    refs = json.loads(keel_cli("artifacts", "ls", "--project", "churn", "--json").out)
    assert sorted(r["digest"] for r in refs) == sorted([HELLO, info["digest"]])


def test_bad_inputs_exit_2_and_name_the_problem(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    bad = keel_cli("artifacts", "get", "not-a-digest", "out.bin")
    assert bad.code == 2 and "not a BLAKE3 digest" in bad.err
    unknown = keel_cli("artifacts", "get", "7" * 64, "out.bin")
    assert unknown.code == 2 and "no object" in unknown.err
    assert not (workspace / "out.bin").exists()
    no_project = keel_cli("artifacts", "put", "model.bin", "--project", "nosuch")
    assert no_project.code == 2 and "nosuch" in no_project.err
    grace = keel_cli("artifacts", "gc", "--grace", "soon")
    assert grace.code == 2 and "--grace" in grace.err
    missing = keel_cli("artifacts", "put", "nothing.bin", "--project", "churn")
    assert missing.code == 2 and "nothing.bin" in missing.err


def test_fsck_names_a_corrupt_object(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    assert keel_cli("artifacts", "put", "model.bin", "-p", "churn").code == 0
    assert keel_cli("artifacts", "fsck").code == 0
    path = workspace / ".keel" / "objects" / HELLO[:2] / HELLO[2:]
    path.chmod(0o644)
    path.write_bytes(b"HELLO")
    result = keel_cli("artifacts", "fsck")
    assert result.code == 1
    assert f"corrupt object {HELLO}" in result.err
    refused = keel_cli("artifacts", "get", HELLO, "out.bin")
    assert refused.code == 1 and "corrupt" in refused.err and not (workspace / "out.bin").exists()


def test_rm_then_gc(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    assert keel_cli("artifacts", "put", "model.bin", "-p", "churn").code == 0
    assert keel_cli("artifacts", "rm", HELLO, "-p", "churn").code == 0
    dry = json.loads(keel_cli("artifacts", "gc", "--grace", "0s", "--dry-run", "--json").out)
    assert dry["deleted_digests"] == [HELLO]
    assert (workspace / ".keel" / "objects" / HELLO[:2] / HELLO[2:]).exists()
    done = json.loads(keel_cli("artifacts", "gc", "--grace", "0s", "--json").out)
    assert done["deleted"] == 1
    assert not (workspace / ".keel" / "objects" / HELLO[:2] / HELLO[2:]).exists()


def test_remote_add_ls_push_pull_rm(
    workspace: Path, keel_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keel_cli("remote", "add", "backup", str(workspace / "remote")).code == 0
    listed = json.loads(keel_cli("remote", "ls", "--json").out)
    assert listed == [{"name": "backup", "url": str(workspace / "remote")}]
    tree = json.loads(keel_cli("artifacts", "put", "images", "-p", "churn", "--json").out)["digest"]
    pushed = json.loads(keel_cli("artifacts", "push", "backup", "--json").out)
    assert pushed["moved"] == 3
    assert json.loads(keel_cli("artifacts", "push", "backup", "--json").out)["moved"] == 0
    # a second machine: a fresh workspace pulls the tree
    other = workspace / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    assert keel_cli("init").code == 0
    assert keel_cli("remote", "add", "backup", str(workspace / "remote")).code == 0
    pulled = json.loads(keel_cli("artifacts", "pull", "backup", tree, "--json").out)
    assert pulled["moved"] == 3
    assert keel_cli("artifacts", "get", tree, "images").code == 0
    assert (other / "images" / "dog.png").read_bytes() == b"dog"
    unknown = keel_cli("artifacts", "pull", "nowhere", tree)
    assert unknown.code == 2 and "no remote named 'nowhere'" in unknown.err
    assert keel_cli("remote", "rm", "backup").code == 0
    assert json.loads(keel_cli("remote", "ls", "--json").out) == []


def test_push_to_s3_with_endpoint(
    workspace: Path, keel_cli: Callable[..., Any], s3_url: str, s3_endpoint: str
) -> None:
    added = keel_cli("remote", "add", "origin", s3_url, "--endpoint-url", s3_endpoint)
    assert added.code == 0, added.err
    assert keel_cli("artifacts", "put", "model.bin", "-p", "churn").code == 0
    assert json.loads(keel_cli("artifacts", "push", "origin", "--json").out)["moved"] == 1
    config = (workspace / ".keel" / "config.toml").read_text()
    assert "endpoint_url" in config and "testing" not in config  # no credentials written


def test_put_and_get_through_a_server(
    keel_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)
    if getattr(keel_server, "token", None):
        monkeypatch.setenv("KEEL_TOKEN", keel_server.token)
    project = f"cli-{os.getpid()}-{tmp_path.name[-6:]}".replace("_", "-")
    assert keel_cli("project", "create", project).code == 0
    src = tmp_path / "data"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.csv").write_bytes(b"a,b\n1,2\n")
    (src / "b.csv").write_bytes(b"x\n")
    put = keel_cli("artifacts", "put", str(src), "-p", project, "--json")
    assert put.code == 0, put.err
    digest = json.loads(put.out)["digest"]
    again = keel_cli("artifacts", "put", str(src), "-p", project, "--json")
    assert json.loads(again.out)["digest"] == digest  # same digest as a local put would give
    assert keel_cli("artifacts", "get", digest, "copy", "-p", project).code == 0
    assert (tmp_path / "copy" / "sub" / "a.csv").read_bytes() == b"a,b\n1,2\n"
    entries = json.loads(keel_cli("artifacts", "ls-tree", digest, "-p", project, "--json").out)
    assert [e["path"] for e in entries] == ["b.csv", "sub/a.csv"]


def test_put_get_rm_against_a_server(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keel_cli: Callable[..., Any],
    keel_server: Any,
    unique: Callable[[str], str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)
    monkeypatch.setenv("KEEL_TOKEN", keel_server.token)
    project = unique("cli-art")
    assert keel_cli("project", "create", project).code == 0
    src = tmp_path / "folder"
    (src / "sub").mkdir(parents=True)
    (src / "a.bin").write_bytes(b"remote file a")
    (src / "sub" / "b.bin").write_bytes(b"remote file b")
    put = keel_cli("artifacts", "put", "folder", "-p", project, "--json")
    assert put.code == 0, put.err
    tree = json.loads(put.out)["digest"]
    listed = json.loads(keel_cli("artifacts", "ls", "-p", project, "--json").out)
    assert [r["digest"] for r in listed] == [tree]  # the tree alone, as a local put leaves it
    got = keel_cli("artifacts", "get", tree, "out", "-p", project)
    assert got.code == 0, got.err
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == b"remote file b"
    assert keel_cli("artifacts", "rm", tree, "-p", project).code == 0
    assert json.loads(keel_cli("artifacts", "ls", "-p", project, "--json").out) == []


def test_grace_takes_the_durations_keel_auth_reads(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    for ok in ("2w", "36h", "0"):
        result = keel_cli("artifacts", "gc", "--grace", ok, "--dry-run", "--json")
        assert result.code == 0, (ok, result.err)
    for bad in ("1.5h", "-3d", "90"):
        result = keel_cli("artifacts", "gc", "--grace", bad, "--dry-run")
        assert result.code == 2 and "--grace" in result.err, (bad, result.err)


def _flip_a_byte(objects: Path, digest: str) -> None:
    path = objects / digest[:2] / digest[2:]
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


def test_get_of_a_tree_with_a_corrupt_object_writes_nothing(
    workspace: Path, keel_cli: Callable[..., Any]
) -> None:
    put = keel_cli("artifacts", "put", "images/", "--project", "churn", "--json")
    tree = json.loads(put.out)["digest"]
    entries = json.loads(keel_cli("artifacts", "ls-tree", tree, "--json").out)
    _flip_a_byte(workspace / ".keel" / "objects", entries[-1]["digest"])
    for flags in ([], ["--hardlink"]):
        got = keel_cli("artifacts", "get", tree, "out", *flags)
        assert got.code == 1 and entries[-1]["digest"] in got.err, got.err
        assert not (workspace / "out").exists()
    (workspace / "out").mkdir()
    (workspace / "out" / "dog.png").write_bytes(b"my own dog")
    assert keel_cli("artifacts", "get", tree, "out", "--force").code == 1
    assert [p.name for p in (workspace / "out").iterdir()] == ["dog.png"]
    assert (workspace / "out" / "dog.png").read_bytes() == b"my own dog"
    assert keel_cli("artifacts", "put", "images/", "--project", "churn").code == 0  # re-put repairs
    assert keel_cli("artifacts", "fsck").code == 0
    got = keel_cli("artifacts", "get", tree, "linked", "--hardlink")
    assert got.code == 0, got.err
    assert (workspace / "linked" / "cats" / "1.png").read_bytes() == b"cat one"
    assert (workspace / "linked" / "dog.png").stat().st_nlink >= 2


def test_corrupt_objects_over_rest_are_named_and_write_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keel_cli: Callable[..., Any],
    keel_server: Any,
    unique: Callable[[str], str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)
    monkeypatch.setenv("KEEL_TOKEN", keel_server.token)
    project = unique("corrupt")
    assert keel_cli("project", "create", project).code == 0
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "small.bin").write_bytes(b"a small object, verified before it is sent")
    (folder / "large.bin").write_bytes(os.urandom(17 << 20))  # above the server's verify-first size
    digests = {}
    for name in ("small.bin", "large.bin"):
        put = keel_cli("artifacts", "put", str(folder / name), "-p", project, "--json")
        assert put.code == 0, put.err
        digests[name] = json.loads(put.out)["digest"]
    tree = json.loads(keel_cli("artifacts", "put", "folder", "-p", project, "--json").out)["digest"]
    objects = keel_server.home / "objects"
    for name, digest in digests.items():
        _flip_a_byte(objects, digest)
        got = keel_cli("artifacts", "get", digest, f"out-{name}", "-p", project)
        assert got.code == 1, (name, got.err)
        assert f"object {digest} is corrupt on the server" in got.err, (name, got.err)
        assert "internal error" not in got.err
        assert not (tmp_path / f"out-{name}").exists()
    got = keel_cli("artifacts", "get", tree, "out", "-p", project)
    assert got.code == 1 and "corrupt on the server" in got.err, got.err
    assert not (tmp_path / "out").exists()
    again = keel_cli("artifacts", "put", "folder", "-p", project, "--json")  # re-put repairs both
    assert again.code == 0, again.err
    got = keel_cli("artifacts", "get", tree, "out", "-p", project)
    assert got.code == 0, got.err
    assert (tmp_path / "out" / "large.bin").read_bytes() == (folder / "large.bin").read_bytes()
