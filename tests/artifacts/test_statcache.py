"""The stat cache: re-putting an unchanged tree stats each file and reads none."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore
from keel.artifacts.backend import ObjectBackend
from keel.artifacts.model import ObjectInfo
from keel.artifacts.statcache import RACY_NS, Stat, StatCache


def _folder(root: Path, count: int) -> Path:
    root.mkdir()
    for i in range(count):
        (root / f"f{i:03}.bin").write_bytes(f"file {i}".encode() * 10)
    past = time.time() - 10  # older than the racily-clean window
    for path in root.iterdir():
        os.utime(path, (past, past))
    return root


def _forbid_reads(monkeypatch: pytest.MonkeyPatch, backend: ObjectBackend) -> list[Path]:
    read: list[Path] = []
    original = backend.write_file

    def spy(path: Path) -> tuple[ObjectInfo, bool]:
        read.append(path)
        return original(path)

    monkeypatch.setattr(backend, "write_file", spy)
    return read


def test_unchanged_tree_reads_no_file(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "src", 50)
    first = store.put_tree(src)
    read = _forbid_reads(monkeypatch, store.backend)
    assert store.put_tree(src) == first
    assert read == []


def test_changed_file_is_hashed_again(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "src", 10)
    first = store.put_tree(src)
    (src / "f003.bin").write_bytes(b"changed")
    read = _forbid_reads(monkeypatch, store.backend)
    second = store.put_tree(src)
    assert second.digest != first.digest
    assert [p.name for p in read] == ["f003.bin"]


def test_collected_object_is_stored_again(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", 3)
    tree = store.put_tree(src)
    entry = store.read_tree(tree.digest)[0]
    store.delete([entry.digest])
    store.put_tree(src)
    assert store.exists([entry.digest]) == {entry.digest}


def test_racily_clean_files_are_not_cached(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    fresh = src / "fresh.txt"
    fresh.write_text("just written")
    # Modified "now" as far as any scan can tell, whatever the machine's speed: an mtime an hour
    # ahead is always within the racy window of the scan's start (no dependence on timing).
    ahead = time.time_ns() + 3600 * 1_000_000_000
    os.utime(fresh, ns=(ahead, ahead))
    store.put_tree(src)
    read = _forbid_reads(monkeypatch, store.backend)
    store.put_tree(src)
    assert [p.name for p in read] == ["fresh.txt"]


def test_the_racy_window_boundary(tmp_path: Path) -> None:
    cache = StatCache(tmp_path / "cache.sqlite")
    started = 1_700_000_000_000_000_000
    digest = "a" * 64

    def kept(mtime_ns: int) -> bool:
        path = f"/data/{mtime_ns}"
        cache.record(
            [(path, Stat(1, mtime_ns, 7), digest)], scan_started_ns=started, epoch="e", seen_ns=started
        )
        return cache.get(path) is not None

    assert kept(started - RACY_NS - 1)  # modified just before the window: trusted
    assert not kept(started - RACY_NS)  # on its edge: could still change within the same tick
    assert not kept(started)
    assert not kept(started + 1)  # a clock that runs ahead of the scan


def test_cache_lives_in_a_local_sqlite_file(store: ArtifactStore, tmp_path: Path) -> None:
    store.put_tree(_folder(tmp_path / "src", 2))
    assert (tmp_path / "cache" / "stat-cache.sqlite").is_file()


def test_recent_sighting_skips_the_object_check_until_the_store_deletes(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "src", 5)
    store.put_tree(src)
    checked: list[int] = []
    original = store.backend.exists_and_freshen

    def spy(digests: list[str]) -> set[str]:
        checked.append(len(digests))
        return original(digests)

    monkeypatch.setattr(store.backend, "exists_and_freshen", spy)
    store.put_tree(src)
    assert checked == []  # seen moments ago, nothing deleted since
    store.delete([store.put_bytes(b"unrelated")])  # any deletion changes the epoch
    store.put_tree(src)
    assert checked == [5]


def test_one_file_put_with_the_cache_is_read_once(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _folder(tmp_path / "src", 2)
    path = src / "f000.bin"
    first = store.put_file(path, use_stat_cache=True)
    read = _forbid_reads(monkeypatch, store.backend)
    assert store.put_file(path, use_stat_cache=True) == first
    assert read == []
    assert store.put_file(path) == first  # without the flag the bytes are read, as before
    assert read == [path]
    path.write_bytes(b"changed")
    changed = store.put_file(path, use_stat_cache=True)
    assert changed.digest != first.digest and changed.size == 7
    assert [p.name for p in read] == ["f000.bin", "f000.bin"]


def test_one_file_whose_object_was_collected_is_stored_again(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", 1)
    first = store.put_file(src / "f000.bin", use_stat_cache=True)
    store.backend.delete([first.digest])  # as gc would (and gc moves the store's epoch on)
    again = store.put_file(src / "f000.bin", use_stat_cache=True)
    assert again == first and store.exists([first.digest]) == {first.digest}
