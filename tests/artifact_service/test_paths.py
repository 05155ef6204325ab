"""The REST client's side of get: a tree from a server is verified and checked here, never trusted."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from keel.artifact_service.paths import download_tree
from keel.artifacts.digest import hash_bytes
from keel.artifacts.tree import TREE_PREFIX, encode_tree
from keel.core.errors import Conflict, CorruptObject, InvalidInput

DATA = b"payload"
FILE = hash_bytes(DATA)


def _download(objects: dict[str, bytes], asked: list[str]) -> Callable[[str], Iterable[bytes]]:
    def download(digest: str) -> Iterable[bytes]:
        asked.append(digest)
        return [objects[digest]]

    return download


def _tree(paths: list[str]) -> tuple[str, dict[str, bytes]]:
    manifest = encode_tree([(p, FILE, len(DATA), 0o644) for p in paths])
    return hash_bytes(manifest), {hash_bytes(manifest): manifest, FILE: DATA}


def _raw_tree(path: str) -> tuple[str, dict[str, bytes]]:
    """A manifest a hostile server could send: canonical in form, with a path encode_tree refuses."""
    manifest = TREE_PREFIX + f'{{"digest":"{FILE}","mode":420,"path":"{path}","size":7}}]}}'.encode()
    return hash_bytes(manifest), {hash_bytes(manifest): manifest, FILE: DATA}


def test_a_tree_is_written_from_its_verified_manifest(tmp_path: Path) -> None:
    tree, objects = _tree(["a.bin", "sub/b.bin"])
    asked: list[str] = []
    written = download_tree(tree, tmp_path / "out", download=_download(objects, asked))
    assert written == 2 and asked[0] == tree
    assert (tmp_path / "out" / "sub" / "b.bin").read_bytes() == DATA


@pytest.mark.parametrize("path", ["../escaped.bin", "/etc/escaped.bin", "a/../../escaped.bin"])
def test_entries_that_leave_the_folder_are_refused(tmp_path: Path, path: str) -> None:
    tree, objects = _raw_tree(path)
    with pytest.raises(InvalidInput, match="tree entry path"):
        download_tree(tree, tmp_path / "out", download=_download(objects, []))
    assert not (tmp_path / "escaped.bin").exists()
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_symlink_to_a_sibling_with_the_same_prefix_is_refused(tmp_path: Path) -> None:
    out, evil = tmp_path / "out", tmp_path / "out-evil"
    out.mkdir()
    evil.mkdir()
    os.symlink(evil, out / "sub")  # realpath(out/sub) = .../out-evil, which starts with .../out
    tree, objects = _tree(["sub/x.bin"])
    with pytest.raises(InvalidInput, match="outside"):
        download_tree(tree, out, download=_download(objects, []))
    assert list(evil.iterdir()) == []


def test_a_manifest_that_does_not_match_the_digest_is_refused(tmp_path: Path) -> None:
    tree, objects = _tree(["a.bin"])
    other, _ = _tree(["b.bin"])
    objects[other] = objects[tree]  # the server answers the wrong tree's bytes
    with pytest.raises(CorruptObject, match=other):
        download_tree(other, tmp_path / "out", download=_download(objects, []))
    assert not (tmp_path / "out").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    tree, objects = _tree(["a.bin"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.bin").write_bytes(b"mine")
    with pytest.raises(Conflict, match="exist already"):
        download_tree(tree, tmp_path / "out", download=_download(objects, []))
    assert (tmp_path / "out" / "a.bin").read_bytes() == b"mine"
    download_tree(tree, tmp_path / "out", download=_download(objects, []), force=True)
    assert (tmp_path / "out" / "a.bin").read_bytes() == DATA


def test_a_symlinked_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    (tmp_path / "out").mkdir()
    os.symlink(outside, tmp_path / "out" / "a.bin")
    tree, objects = _tree(["a.bin"])
    download_tree(tree, tmp_path / "out", download=_download(objects, []), force=True)
    assert outside.read_bytes() == b"keep me"
    assert not (tmp_path / "out" / "a.bin").is_symlink()
    assert (tmp_path / "out" / "a.bin").read_bytes() == DATA
