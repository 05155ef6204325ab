"""fsck names every corrupt object and every tree whose entries are wrong."""

from __future__ import annotations

from pathlib import Path

from keel.artifacts import ArtifactStore, fsck
from keel.artifacts.tree import encode_tree


def _corrupt(store: ArtifactStore, digest: str, data: bytes) -> None:
    path = store.backend.local_path(digest)
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(data)


def test_clean_store(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a").write_bytes(b"a")
    store.put_tree(tmp_path / "src")
    report = fsck(store)
    assert report.ok and (report.objects, report.trees) == (2, 1)


def test_names_corrupt_objects_and_bad_trees(store: ArtifactStore) -> None:
    good = store.put_bytes(b"good")
    bad = store.put_bytes(b"will rot")
    ghost = "4" * 64
    tree_missing = store.put_bytes(encode_tree([("x", ghost, 1, 0o644)]))
    tree_size = store.put_bytes(encode_tree([("g", good, 99, 0o644)]))
    tree_rotten = store.put_bytes(encode_tree([("b", bad, 8, 0o644)]))
    _corrupt(store, bad, b"rotten!!")
    report = fsck(store)
    assert not report.ok
    assert report.corrupt == [bad]
    assert set(report.bad_trees) == {tree_missing, tree_size, tree_rotten}
    assert "missing object" in report.bad_trees[tree_missing]
    assert "99 bytes" in report.bad_trees[tree_size]
    assert "corrupt" in report.bad_trees[tree_rotten]
