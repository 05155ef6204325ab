"""S3 as a remote and as the primary store (KEEL_ARTIFACTS_URL), against moto on loopback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, collect_garbage, fsck, open_artifacts, transfer
from keel.context import Context
from keel.core.settings import load_settings


def test_primary_store_from_keel_artifacts_url(s3_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        {"db_url": f"sqlite:///{tmp_path / 'x.db'}"},
        env={"KEEL_ARTIFACTS_URL": s3_url},
        cwd=tmp_path,
    )
    store = Context(settings).artifacts
    assert store.url == s3_url
    digest = store.put_bytes(b"team mode")
    assert open_artifacts(s3_url).exists([digest]) == {digest}  # another machine sees it


def test_tree_gc_and_fsck_on_s3(s3_url: str, tmp_path: Path) -> None:
    store = open_artifacts(s3_url, cache_dir=tmp_path / "cache")
    src = tmp_path / "src"
    src.mkdir()
    for i in range(70):  # more than the listing threshold of exists()
        (src / f"f{i}").write_bytes(b"s3 object %d" % i)
    tree = store.put_tree(src)
    orphan = store.put_bytes(b"nobody wants me")
    assert len(store.exists([e.digest for e in store.read_tree(tree.digest)])) == 70
    report = fsck(store)
    assert report.ok and report.objects == 72
    assert collect_garbage(store, [tree.digest], grace_s=0).deleted_digests == [orphan]
    assert not store.exists([orphan])


def test_push_pull_between_local_and_s3(store: ArtifactStore, s3_url: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "model.bin").write_bytes(b"weights" * 1000)
    tree = store.put_tree(src)
    remote = open_artifacts(s3_url)
    assert transfer(store, remote).moved == 2
    fresh = open_artifacts(str(tmp_path / "fresh"))
    assert transfer(remote, fresh, [tree.digest]).moved == 2
    assert fresh.checkout_tree(tree.digest, tmp_path / "out") == 1


def test_missing_bucket_names_the_remote(s3_url: str, s3_endpoint: str) -> None:
    from keel.core.errors import RemoteUnavailable

    store = open_artifacts(
        "s3://no-such-bucket-here/keel", options={"endpoint_url": s3_endpoint}, name="typo"
    )
    with pytest.raises(RemoteUnavailable, match=r"remote 'typo' \(s3://no-such-bucket-here/keel\)"):
        store.put_bytes(b"nowhere to go")


def test_reusing_an_old_s3_object_renews_it(s3_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from keel.artifacts import local

    store = open_artifacts(s3_url)
    digest = store.put_bytes(b"reused later")
    before = next(o.mtime for o in store.iter_objects() if o.digest == digest)
    time.sleep(1.1)  # S3 times have one-second resolution
    monkeypatch.setattr(local, "FRESHEN_AFTER_S", 0.5)
    assert store.put_bytes(b"reused later") == digest
    after = next(o.mtime for o in store.iter_objects() if o.digest == digest)
    assert after > before
    assert store.read_bytes(digest) == b"reused later"
