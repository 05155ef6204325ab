"""Garbage collection: only what no reference reaches, never young objects, safe beside a running put."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, collect_garbage
from keel.core.errors import InvalidInput


def _age(store: ArtifactStore, digests: list[str], seconds: float = 7200) -> None:
    past = time.time() - seconds
    for digest in digests:
        path = store.backend.local_path(digest)
        assert path is not None
        os.utime(path, (past, past))


def test_gc_keeps_referenced_objects_and_tree_entries(store: ArtifactStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"in the tree")
    tree = store.put_tree(src)
    kept = store.put_bytes(b"referenced")
    orphan = store.put_bytes(b"orphan")
    everything = [o.digest for o in store.iter_objects()]
    _age(store, everything)
    dry = collect_garbage(store, [tree.digest, kept], grace_s=3600, dry_run=True)
    assert dry.deleted_digests == [orphan] and store.exists([orphan])
    report = collect_garbage(store, [tree.digest, kept], grace_s=3600)
    assert (report.deleted, report.live) == (1, 3)
    assert store.exists(everything) == set(everything) - {orphan}


def test_gc_spares_young_objects(store: ArtifactStore) -> None:
    young = store.put_bytes(b"just written, not referenced yet")
    report = collect_garbage(store, [], grace_s=3600)
    assert (report.deleted, report.spared) == (0, 1)
    assert store.exists([young])


def test_put_freshens_an_old_object_it_finds(store: ArtifactStore) -> None:
    digest = store.put_bytes(b"old and unreferenced")
    _age(store, [digest])
    store.put_bytes(b"old and unreferenced")  # a new put about to reference it
    assert collect_garbage(store, [], grace_s=3600).deleted == 0


def test_negative_grace_is_refused(store: ArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="grace"):
        collect_garbage(store, [], grace_s=-1)


PUTTER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from keel.artifacts import open_artifacts
    store = open_artifacts(sys.argv[1])
    out = Path(sys.argv[2])
    digests = []
    for i in range(int(sys.argv[3])):
        digests.append(store.put_bytes(b"put %d " % i + b"x" * 1000))
        if i % 2 == 0:
            digests.append(store.put_bytes(b"old object %d" % (i % 10)))  # dedups against aged objects
        store.sync()
        tmp = out.with_suffix(".tmp")
        tmp.write_text("\\n".join(digests))
        tmp.replace(out)  # atomic: the test never reads a half-written list
    out.with_suffix(".done").write_text("done")
    """
)


def test_gc_while_another_process_puts(store: ArtifactStore, tmp_path: Path) -> None:
    """A put in another process never loses an object to a gc running at the same time."""
    for i in range(10):
        store.put_bytes(b"old object %d" % i)
    _age(store, [o.digest for o in store.iter_objects()])
    root = str(store.backend.local_path("0" * 64).parent.parent)  # type: ignore[union-attr]
    log = tmp_path / "put.log"
    proc = subprocess.Popen([sys.executable, "-c", PUTTER, root, str(log), "300"])
    try:
        rounds = 0
        while proc.poll() is None or rounds < 3:
            referenced = log.read_text().split() if log.exists() else []
            collect_garbage(store, referenced, grace_s=60)
            rounds += 1
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    referenced = log.read_text().split()
    assert len(referenced) == 450
    assert store.exists(referenced) == set(referenced)


def _tree_with_old_files(store: ArtifactStore, tmp_path: Path) -> tuple[str, list[str]]:
    src = tmp_path / "kept"
    src.mkdir()
    (src / "a").write_bytes(b"file a of a referenced tree")
    (src / "b").write_bytes(b"file b of a referenced tree")
    tree = store.put_tree(src)
    files = [e.digest for e in store.read_tree(tree.digest)]
    _age(store, [tree.digest, *files])
    return tree.digest, files


def test_gc_stops_when_a_referenced_tree_is_corrupt(store: ArtifactStore, tmp_path: Path) -> None:
    from keel.core.errors import CorruptObject

    tree, files = _tree_with_old_files(store, tmp_path)
    path = store.backend.local_path(tree)
    assert path is not None
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b'"a"', b'"z"'))  # still looks like a tree; wrong digest
    _age(store, [tree])
    with pytest.raises(CorruptObject, match=f"nothing deleted.*{tree}"):
        collect_garbage(store, [tree], grace_s=60)
    assert store.exists(files) == set(files)


def test_gc_stops_when_a_referenced_tree_cannot_be_read(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keel.core.errors import RemoteUnavailable

    tree, files = _tree_with_old_files(store, tmp_path)

    def outage(digest: str, *, verify: bool = True) -> bytes:
        raise RemoteUnavailable("remote 'origin' failed while opening object: timeout")

    monkeypatch.setattr(store, "read_bytes", outage)
    with pytest.raises(RemoteUnavailable, match=tree):
        collect_garbage(store, [tree], grace_s=60)
    monkeypatch.setattr(
        store, "read_bytes", lambda digest, verify=True: (_ for _ in ()).throw(OSError(5, "EIO"))
    )
    with pytest.raises(Exception, match=f"nothing deleted.*{tree}"):
        collect_garbage(store, [tree], grace_s=60)
    assert store.exists(files) == set(files)


def test_gc_treats_a_file_that_only_starts_like_a_tree_as_a_file(store: ArtifactStore) -> None:
    from keel.artifacts.tree import TREE_PREFIX

    lookalike = store.put_bytes(TREE_PREFIX + b"not json at all")
    orphan = store.put_bytes(b"orphan next to a look-alike")
    _age(store, [lookalike, orphan])
    assert collect_garbage(store, [lookalike], grace_s=60).deleted_digests == [orphan]
