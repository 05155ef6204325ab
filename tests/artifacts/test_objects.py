"""Objects: raw bytes named by BLAKE3, written atomically, one syncfs per batch, verified on read."""

from __future__ import annotations

import errno
import os
import shutil
import sys
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore
from keel.artifacts import local as local_mod
from keel.artifacts.digest import hash_bytes
from keel.core.errors import CorruptObject, InvalidInput, NotFound, StorageFull

HELLO = "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"


def _object_path(store: ArtifactStore, digest: str) -> Path:
    path = store.backend.local_path(digest)
    assert path is not None
    return path


def _temporaries(root: Path) -> list[Path]:
    """What ``.tmp`` holds besides the writers' lock files."""
    return [p for p in (root / ".tmp").iterdir() if not p.name.endswith(".lock")]


def test_layout_is_objects_ab_cdef_raw_and_read_only(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"hello")
    path = _object_path(store, digest)
    assert path.parent.name == HELLO[:2] and path.name == HELLO[2:]
    assert path.read_bytes() == b"hello"
    assert path.stat().st_mode & 0o777 == 0o444


def test_large_file_is_hashed_while_copied(store: ArtifactStore, tmp_path: Path) -> None:
    data = os.urandom(local_mod.SMALL_FILE + 12345)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    info = store.put_file(src)
    assert info.digest == hash_bytes(data) and info.size == len(data)
    assert _object_path(store, info.digest).read_bytes() == data
    assert store.put_file(src) == info  # second put: same object, temp copy dropped
    assert _temporaries(store.backend.root) == []  # type: ignore[attr-defined]


def test_one_syncfs_per_batch(store: ArtifactStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(local_mod, "syncfs", lambda folder: calls.append(folder) or "syncfs")
    for i in range(10):
        store.put_bytes(f"object {i}".encode())
    assert calls == []
    store.sync()
    store.sync()  # nothing new: no second flush
    assert len(calls) == 1


def test_syncfs_uses_libc_on_linux(tmp_path: Path) -> None:
    from keel.artifacts.syncfs import syncfs

    assert syncfs(tmp_path) == ("syncfs" if sys.platform.startswith("linux") else "sync")


def test_a_large_file_rewritten_during_put_is_refused(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keel.core.errors import Conflict

    src = tmp_path / "big.bin"
    src.write_bytes(b"a" * (local_mod.SMALL_FILE + 1))
    real_copy = shutil.copyfile

    def rewrite_then_copy(a: Path, b: Path) -> object:
        with open(src, "r+b") as handle:  # same size, new bytes, in place: the hasher saw (some of) the old
            handle.write(b"b" * 4096)
        st = os.stat(src)
        os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a clock tick later
        return real_copy(a, b)

    monkeypatch.setattr(shutil, "copyfile", rewrite_then_copy)
    with pytest.raises(Conflict, match=r"big\.bin changed while it was being stored"):
        store.put_file(src)
    assert [obj.digest for obj in store.iter_objects()] == []
    assert _temporaries(store.backend.root) == []  # type: ignore[attr-defined]


def test_full_disk_leaves_no_half_object(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(src: Path, dst: Path) -> None:
        with open(dst, "wb") as out:
            out.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", no_space)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(local_mod.SMALL_FILE + 1))
    with pytest.raises(StorageFull, match="no space left"):
        store.put_file(big)
    root = store.backend.root  # type: ignore[attr-defined]
    assert _temporaries(root) == []
    assert list(store.iter_objects()) == []


def test_full_disk_on_stream(store: ArtifactStore) -> None:
    def chunks() -> object:
        yield b"first chunk"
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(StorageFull):
        store.put_stream(chunks())  # type: ignore[arg-type]
    assert list(store.iter_objects()) == []


def test_bad_and_unknown_digests(store: ArtifactStore, tmp_path: Path) -> None:
    for bad in ("", "abc", "g" * 64, HELLO.upper(), HELLO[:-1]):
        with pytest.raises(InvalidInput, match="not a BLAKE3 digest"):
            store.exists([bad])
    with pytest.raises(NotFound, match="no object"):
        store.open("3" * 64)
    with pytest.raises(NotFound):
        store.get_file("3" * 64, tmp_path / "out")
    with pytest.raises(NotFound):
        store.put_file(tmp_path / "missing.bin")


def test_corrupt_object_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    digest = store.put_bytes(b"precious bytes")
    path = _object_path(store, digest)
    path.chmod(0o644)
    path.write_bytes(b"rotten bytes!!")
    dest = tmp_path / "out.bin"
    with pytest.raises(CorruptObject, match=digest):
        store.get_file(digest, dest)
    assert not dest.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
    with pytest.raises(CorruptObject, match="set it aside"):  # found corrupt once: set aside
        store.read_bytes(digest)
    assert (store.backend.root / ".corrupt" / digest).read_bytes() == b"rotten bytes!!"  # type: ignore[attr-defined]


def test_reads_verify_unless_told_not_to(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"precious bytes")
    path = _object_path(store, digest)
    path.chmod(0o644)
    path.write_bytes(b"rotten bytes!!")
    with store.open(digest, verify=False) as handle:  # unverified reads are the caller's explicit choice
        assert handle.read() == b"rotten bytes!!"
    with pytest.raises(CorruptObject), store.open(digest) as handle:  # verified by default
        handle.read()


def test_get_file_refuses_a_folder(store: ArtifactStore, tmp_path: Path) -> None:
    digest = store.put_bytes(b"x")
    with pytest.raises(InvalidInput, match="is a folder"):
        store.get_file(digest, tmp_path)


def test_put_file_refuses_a_folder(store: ArtifactStore, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="put_tree"):
        store.put_file(tmp_path)


def test_a_verified_random_access_reader_serves_parquet_and_refuses_a_corrupt_file(
    store: ArtifactStore,
) -> None:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(1000)), "b": ["x"] * 1000}), buffer)
    digest = store.put_bytes(buffer.getvalue())
    with store.open(digest) as handle, pq.ParquetFile(handle) as parquet:  # seeks to the footer first
        assert parquet.read(columns=["a"]).num_rows == 1000
    path = _object_path(store, digest)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with (
        pytest.raises(CorruptObject, match=digest),
        store.open(digest) as handle,
        pq.ParquetFile(handle) as parquet,
    ):
        parquet.read()
