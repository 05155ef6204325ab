"""Checkouts are verified and all or nothing: a corrupt object, or a failure part-way, leaves the target as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, open_artifacts
from keel.artifacts.place import STAGING_PREFIX, place_files
from keel.core.errors import Conflict, CorruptObject, InvalidInput, NotFound


def _folder(root: Path, files: int = 21) -> Path:
    root.mkdir()
    (root / "sub").mkdir()
    for i in range(files):
        (root / ("sub" if i % 2 else "") / f"f{i:02d}.txt").write_bytes(f"file {i}\n".encode())
    return root


def _corrupt(store: ArtifactStore, digest: str) -> None:
    path = store.backend.local_path(digest)
    assert path is not None
    path.chmod(0o644)
    data = path.read_bytes()
    path.write_bytes(bytes([data[0] ^ 1]) + data[1:])  # same size, one bit flipped


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _last_entry(store: ArtifactStore, tree: str) -> str:
    return store.read_tree(tree)[-1].digest


@pytest.mark.parametrize("hardlink", [False, True])
def test_a_corrupt_object_leaves_a_new_target_absent(
    store: ArtifactStore, tmp_path: Path, hardlink: bool
) -> None:
    tree = store.put_tree(_folder(tmp_path / "src")).digest
    bad = _last_entry(store, tree)
    _corrupt(store, bad)
    out = tmp_path / "out"
    with pytest.raises(CorruptObject, match=bad):
        store.checkout_tree(tree, out, hardlink=hardlink)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if STAGING_PREFIX in p.name] == []


@pytest.mark.parametrize("hardlink", [False, True])
def test_a_corrupt_object_leaves_an_existing_target_as_it_was(
    store: ArtifactStore, tmp_path: Path, hardlink: bool
) -> None:
    tree = store.put_tree(_folder(tmp_path / "src")).digest
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "f00.txt").write_bytes(b"mine, to be overwritten")
    (out / "keep.txt").write_bytes(b"unrelated")
    before = _snapshot(out)
    _corrupt(store, _last_entry(store, tree))
    with pytest.raises(CorruptObject, match="nothing was written"):
        store.checkout_tree(tree, out, force=True, hardlink=hardlink)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["f00.txt", "keep.txt", "sub"]


def test_hardlinks_share_the_verified_objects(store: ArtifactStore, tmp_path: Path) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", files=3)).digest
    out = tmp_path / "out"
    assert store.checkout_tree(tree, out, hardlink=True) == 3
    for entry in store.read_tree(tree):
        linked = out / entry.path
        obj = store.backend.local_path(entry.digest)
        assert obj is not None and linked.stat().st_ino == obj.stat().st_ino
    assert _snapshot(out) == _snapshot(tmp_path / "src")


def test_a_single_file_hardlink_of_a_corrupt_object_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    digest = store.put_bytes(b"precious")
    dest = tmp_path / "one.bin"
    store.get_file(digest, dest, hardlink=True)
    assert dest.stat().st_ino == store.backend.local_path(digest).stat().st_ino  # type: ignore[union-attr]
    other = store.put_bytes(b"treasure")
    _corrupt(store, other)
    with pytest.raises(CorruptObject, match=other):
        store.get_file(other, tmp_path / "two.bin", hardlink=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["one.bin"]


def test_a_failure_while_moving_into_place_undoes_every_move(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", files=6)).digest
    out = tmp_path / "out"
    out.mkdir()
    (out / "f00.txt").write_bytes(b"old zero")
    (out / "f02.txt").write_bytes(b"old two")
    before = _snapshot(out)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky(src: str, dst: str) -> None:
        if str(dst).startswith(os.path.realpath(out)) and STAGING_PREFIX not in str(dst):
            calls["n"] += 1
            if calls["n"] == 5:
                raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="No space"):
        store.checkout_tree(tree, out, force=True)
    monkeypatch.setattr(os, "replace", real_replace)
    assert _snapshot(out) == before
    assert sorted(p.name for p in out.iterdir()) == ["f00.txt", "f02.txt"]  # no new folder, no staging


def test_refusals_write_nothing(store: ArtifactStore, tmp_path: Path) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", files=3)).digest
    out = tmp_path / "out"
    out.mkdir()
    (out / "f00.txt").write_bytes(b"mine")
    with pytest.raises(Conflict, match="exist already"):
        store.checkout_tree(tree, out)
    (out / "sub").write_bytes(b"a file where the tree has a folder")
    with pytest.raises(Conflict, match="is a file; the tree has a folder there"):
        store.checkout_tree(tree, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["f00.txt", "sub"]
    afile = tmp_path / "afile"
    afile.write_bytes(b"x")
    with pytest.raises(InvalidInput, match="is a file"):
        store.checkout_tree(tree, afile)
    with pytest.raises(InvalidInput, match="is a file"):
        store.checkout_tree(tree, afile / "below")
    with pytest.raises(NotFound):
        store.checkout_tree("4" * 64, tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_hardlinks_need_a_local_store(tmp_path: Path) -> None:
    memory = open_artifacts(f"memory://keel-test-{os.getpid()}-{tmp_path.name}")
    src = _folder(tmp_path / "src", files=2)
    tree = memory.put_tree(src).digest
    with pytest.raises(InvalidInput, match="hard links need a local artifact store"):
        memory.checkout_tree(tree, tmp_path / "out", hardlink=True)
    assert not (tmp_path / "out").exists()
    assert memory.checkout_tree(tree, tmp_path / "out") == 2


def test_a_killed_checkouts_staging_folder_is_removed_by_the_next(
    store: ArtifactStore, tmp_path: Path
) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", files=2)).digest
    out = tmp_path / "out"
    out.mkdir()
    dead = out / f"{STAGING_PREFIX}999999999-abc"
    (dead / "new").mkdir(parents=True)
    mine = out / f"{STAGING_PREFIX}{os.getpid()}-def"  # a live process's: kept
    mine.mkdir()
    assert store.checkout_tree(tree, out) == 2
    assert not dead.exists() and mine.exists()


def test_place_files_bad_inputs(tmp_path: Path) -> None:
    def write(path: str, staged: Path) -> None:
        staged.write_bytes(path.encode())

    with pytest.raises(InvalidInput, match="twice"):
        place_files(tmp_path / "out", ["a", "a"], write)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "link").symlink_to(outside)
    with pytest.raises(InvalidInput, match="outside"):
        place_files(out, ["link/x"], write)
    (out / "folder").mkdir()
    with pytest.raises(Conflict, match="is a folder"):
        place_files(out, ["folder"], write, force=True)
    assert list(outside.iterdir()) == []
    assert place_files(tmp_path / "fresh" / "deep", ["a/b", "c"], write) == str(tmp_path / "fresh" / "deep")
    assert (tmp_path / "fresh" / "deep" / "a" / "b").read_bytes() == b"a/b"


def test_a_failed_writer_removes_the_folders_made_for_a_new_target(tmp_path: Path) -> None:
    def write(path: str, staged: Path) -> None:
        if path == "b":
            raise CorruptObject("object b is corrupt")
        staged.write_bytes(b"x")

    with pytest.raises(CorruptObject):
        place_files(tmp_path / "new" / "deeper" / "out", ["a", "b"], write)
    assert list(tmp_path.iterdir()) == []


def test_a_verified_reader_that_seeks_hashes_first(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"0123456789" * 1000)
    with store.open(digest) as handle:
        handle.seek(-10, os.SEEK_END)
        assert handle.read() == b"0123456789"
        handle.seek(5)
        assert handle.read(3) == b"567"
    _corrupt(store, digest)
    with store.open(digest) as handle, pytest.raises(CorruptObject, match=digest):
        handle.seek(-10, os.SEEK_END)
    other = store.put_bytes(b"abcdefghij" * 1000)
    _corrupt(store, other)
    with store.open(other) as handle:
        handle.seek(0)  # no jump: still hashed in order, checked at the end
        with pytest.raises(CorruptObject):
            handle.read()


def test_a_corrupt_object_is_set_aside_and_a_re_put_repairs_it(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", files=4)
    tree = store.put_tree(src).digest
    bad = _last_entry(store, tree)
    _corrupt(store, bad)
    with pytest.raises(CorruptObject, match=bad):
        store.checkout_tree(tree, tmp_path / "out")
    assert store.exists([bad]) == set() and store.quarantined([bad]) == {bad}
    with pytest.raises(CorruptObject, match="set it aside"):
        store.read_bytes(bad)
    with pytest.raises(CorruptObject, match="set aside"):
        store.checkout_tree(tree, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # the stat cache sees that the store changed: the file is stored again
    assert store.put_tree(src).digest == tree
    assert store.quarantined([bad]) == set()
    assert store.checkout_tree(tree, tmp_path / "out") == 4
    assert _snapshot(tmp_path / "out") == _snapshot(src)


def test_a_stored_object_of_the_wrong_size_is_replaced_by_a_put(store: ArtifactStore, tmp_path: Path) -> None:
    digest = store.put_bytes(b"the intact bytes")
    path = store.backend.local_path(digest)
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(b"truncated")
    assert store.put_bytes(b"the intact bytes") == digest
    assert store.read_bytes(digest) == b"the intact bytes"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(5 << 20))  # a large file goes through the streamed write
    info = store.put_file(big)
    obj = store.backend.local_path(info.digest)
    assert obj is not None
    obj.chmod(0o644)
    obj.write_bytes(b"short")
    assert store.put_file(big).digest == info.digest
    assert store.read_bytes(info.digest) == big.read_bytes()
