"""Trees: canonical manifests, deduplication, refusal of '..', absolute paths and escaping symlinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore
from keel.artifacts.tree import check_path, encode_tree
from keel.core.errors import Conflict, InvalidInput

EMPTY = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_identical_files_are_stored_once(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {f"d{i}/same.bin": b"same bytes" for i in range(20)})
    tree = store.put_tree(src)
    assert tree.files == 20
    assert len(list(store.iter_objects())) == 2  # one file object, one manifest


@pytest.mark.parametrize("workers", [1, 4])
def test_serial_loop_and_thread_pool_store_the_same_tree(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """``put_tree`` runs a plain loop on 2 cores and a pool on more; both must store every file."""
    import keel.artifacts.build as build

    monkeypatch.setattr(build, "WORKERS", workers)
    files = {f"d{i % 3}/f{i}.bin": os.urandom(100 + i) for i in range(40)}
    tree = store.put_tree(_folder(tmp_path / "src", files))
    assert tree.files == 40 and tree.size == sum(len(v) for v in files.values())
    assert {e.path: e.size for e in store.read_tree(tree.digest)} == {k: len(v) for k, v in files.items()}
    for entry in store.read_tree(tree.digest):
        with store.open(entry.digest) as handle:
            assert handle.read() == files[entry.path]


def test_digest_does_not_depend_on_where_or_when(store: ArtifactStore, tmp_path: Path) -> None:
    files = {"b.txt": b"b", "a/c.txt": b"c", "a/b.txt": b"ab"}
    one = store.put_tree(_folder(tmp_path / "one", files))
    two = store.put_tree(_folder(tmp_path / "two", dict(reversed(files.items()))))
    assert one.digest == two.digest
    assert [e.path for e in store.read_tree(one.digest)] == ["a/b.txt", "a/c.txt", "b.txt"]


def test_empty_folder_is_an_empty_tree(store: ArtifactStore, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    tree = store.put_tree(tmp_path / "empty")
    assert (tree.files, tree.size) == (0, 0)
    assert store.read_bytes(tree.digest) == b'{"keel_tree":1,"entries":[]}'


def test_symlink_leaving_the_tree_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {"a.txt": b"a"})
    (tmp_path / "secret").write_text("outside")
    os.symlink(tmp_path / "secret", src / "leak")
    with pytest.raises(InvalidInput, match="outside"):
        store.put_tree(src)
    assert list(store.iter_objects()) == []


def test_symlinked_folder_is_refused(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {"d/a.txt": b"a"})
    os.symlink(src / "d", src / "loop")
    with pytest.raises(InvalidInput, match="symlink to a folder"):
        store.put_tree(src)


def test_symlink_inside_the_tree_stores_its_target_bytes(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {"real.txt": b"real"})
    os.symlink("real.txt", src / "alias.txt")
    entries = store.read_tree(store.put_tree(src).digest)
    assert entries[0].path == "alias.txt" and entries[0].digest == entries[1].digest


@pytest.mark.parametrize(
    "path",
    [
        "../etc/passwd",
        "/etc/passwd",
        "a/../../b",
        "a//b",
        "./a",
        "a\\b",
        "",
        "C:/x",
        "a/\x00",
        ".keel/config.toml",
        "data/.keel/keel.db",
        ".KEEL/objects",
    ],
)
def test_bad_entry_paths_are_refused_by_the_writer_and_the_reader(path: str) -> None:
    with pytest.raises(InvalidInput, match="tree entry path"):
        check_path(path)
    with pytest.raises(InvalidInput, match="tree entry path"):
        encode_tree([(path, EMPTY, 0, 0o644)])


def test_names_like_keel_that_are_not_the_workspace_folder_are_fine() -> None:
    for path in ("my.keel", ".keelrc", "a/.keel.bak/x", "data.keel"):
        assert check_path(path) == path


def test_a_folder_holding_a_workspace_is_refused_before_anything_is_stored(
    store: ArtifactStore, tmp_path: Path
) -> None:
    folder = tmp_path / "project"
    (folder / "sub" / ".keel").mkdir(parents=True)
    (folder / "sub" / ".keel" / "config.toml").write_text("project = 'x'\n")
    (folder / "a.txt").write_text("a")
    with pytest.raises(InvalidInput, match=r"sub/\.keel/config\.toml"):
        store.put_tree(folder)
    assert list(store.iter_objects()) == []


def test_gc_keeps_the_files_of_a_manifest_the_rules_now_refuse(store: ArtifactStore) -> None:
    from keel.artifacts import collect_garbage

    kept = store.put_bytes(b"a file that an old tree named under .keel/")
    legacy = (
        b'{"keel_tree":1,"entries":[{"digest":"'
        + kept.encode()
        + b'","mode":420,"path":".keel/x","size":42}]}'
    )
    root = store.put_bytes(legacy)
    report = collect_garbage(store, [root], grace_s=0)
    assert report.deleted == 0 and store.exists([kept, root]) == {kept, root}


def test_hostile_manifest_is_refused_on_read(store: ArtifactStore, tmp_path: Path) -> None:
    bad = (
        b'{"keel_tree":1,"entries":[{"digest":"' + EMPTY.encode() + b'","mode":420,"path":"../x","size":0}]}'
    )
    digest = store.put_bytes(bad)
    with pytest.raises(InvalidInput, match=r"'\.\.'"):
        store.read_tree(digest)
    with pytest.raises(InvalidInput):
        store.checkout_tree(digest, tmp_path / "out")
    assert not (tmp_path / "x").exists()


def test_non_tree_and_non_canonical_manifests(store: ArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="is not a tree"):
        store.read_tree(store.put_bytes(b"just bytes"))
    spaced = b'{"keel_tree":1,"entries":[ ]}'
    with pytest.raises(InvalidInput, match="canonical"):
        store.read_tree(store.put_bytes(spaced))
    with pytest.raises(InvalidInput, match="appears twice"):
        encode_tree([("a", EMPTY, 0, 0o644), ("a", EMPTY, 0, 0o644)])


def test_checkout_refuses_to_overwrite_unless_forced(store: ArtifactStore, tmp_path: Path) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", {"a.txt": b"new", "b.txt": b"b"}))
    out = _folder(tmp_path / "out", {"a.txt": b"mine"})
    with pytest.raises(Conflict, match="exist already"):
        store.checkout_tree(tree.digest, out)
    assert (out / "a.txt").read_bytes() == b"mine" and not (out / "b.txt").exists()
    assert store.checkout_tree(tree.digest, out, force=True) == 2
    assert (out / "a.txt").read_bytes() == b"new"


def test_checkout_does_not_follow_symlinks_out(store: ArtifactStore, tmp_path: Path) -> None:
    tree = store.put_tree(_folder(tmp_path / "src", {"sub/a.txt": b"a"}))
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", out / "sub")
    with pytest.raises(InvalidInput, match="outside"):
        store.checkout_tree(tree.digest, out)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_progress_reports_every_file(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {f"f{i}": bytes([i]) for i in range(100)})
    seen: list[tuple[int, int]] = []
    store.put_tree(src, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (100, 100)


def test_backslash_and_non_utf8_names_are_refused(store: ArtifactStore, tmp_path: Path) -> None:
    src = _folder(tmp_path / "src", {"ok.txt": b"ok", "back\\slash.txt": b"x"})
    with pytest.raises(InvalidInput, match="backslash"):
        store.put_tree(src)
    other = _folder(tmp_path / "other", {"ok.txt": b"ok"})
    (other / "ok.txt").rename(os.fsdecode(bytes(other) + b"/\xff.bin"))
    with pytest.raises(InvalidInput, match="not a UTF-8 file name"):
        store.put_tree(other)
