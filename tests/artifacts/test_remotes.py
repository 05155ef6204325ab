"""Named remotes in config.toml, push/pull to a folder remote, resumption, and bad remote configuration."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from keel.artifacts import ArtifactStore, open_artifacts, transfer
from keel.artifacts.remotes import add_remote, get_remote, open_remote, remotes_from, remove_remote
from keel.core.errors import (
    AlreadyExists,
    ConfigError,
    InvalidInput,
    MissingExtra,
    NotFound,
    RemoteUnavailable,
)


def _tables(home: Path) -> dict[str, object]:
    return tomllib.loads((home / "config.toml").read_text())


def test_add_ls_rm(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('project = "churn"\n')
    add_remote(tmp_path, "origin", "s3://bucket/keel", {"endpoint_url": "http://127.0.0.1:9000"})
    add_remote(tmp_path, "backup", str(tmp_path / "backup"))
    tables = _tables(tmp_path)
    assert tables["project"] == "churn"  # other settings are kept
    remotes = remotes_from(tables)
    assert sorted(remotes) == ["backup", "origin"]
    assert remotes["origin"].options == {"endpoint_url": "http://127.0.0.1:9000"}
    with pytest.raises(AlreadyExists):
        add_remote(tmp_path, "origin", "s3://other/x")
    remove_remote(tmp_path, "origin")
    assert sorted(remotes_from(_tables(tmp_path))) == ["backup"]
    with pytest.raises(NotFound, match="no remote named 'origin'"):
        get_remote(_tables(tmp_path), "origin")


@pytest.mark.parametrize(
    ("name", "url", "options", "error", "message"),
    [
        ("bad name", "s3://b/k", {}, InvalidInput, "remote name"),
        ("origin", "s3://b/k", {"secret_access_key": "x"}, InvalidInput, "credential"),
        ("origin", "s3://b/k", {"colour": "blue"}, ConfigError, "unknown option"),
        ("origin", "/tmp/folder", {"endpoint_url": "x"}, InvalidInput, "no options"),
        ("origin", "", {}, InvalidInput, "needs a URL"),
    ],
)
def test_bad_remotes_are_refused(
    tmp_path: Path, name: str, url: str, options: dict[str, str], error: type[Exception], message: str
) -> None:
    (tmp_path / "config.toml").write_text("")
    with pytest.raises(error, match=message):
        add_remote(tmp_path, name, url, options)
    assert (tmp_path / "config.toml").read_text() == ""


def test_malformed_remote_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[remotes.origin\] in config.toml needs a url"):
        remotes_from({"remotes": {"origin": {"endpoint_url": "x"}}})


def _tree(store: ArtifactStore, root: Path, count: int) -> str:
    root.mkdir()
    for i in range(count):
        (root / f"f{i}").write_bytes(b"payload %d" % i)
    return store.put_tree(root).digest


def test_push_and_pull_through_a_folder_remote(store: ArtifactStore, tmp_path: Path) -> None:
    tree = _tree(store, tmp_path / "src", 20)
    add_remote(tmp_path, "backup", str(tmp_path / "remote"))
    remote = open_remote(get_remote(_tables(tmp_path), "backup"))
    assert transfer(store, remote).moved == 21
    assert transfer(store, remote).moved == 0
    other = open_artifacts(str(tmp_path / "other"))
    assert transfer(remote, other, [tree]).moved == 21
    with pytest.raises(NotFound, match="not in"):
        transfer(remote, other, ["5" * 64])


def test_interrupted_push_resumes(
    store: ArtifactStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _tree(store, tmp_path / "src", 30)
    remote = open_artifacts(str(tmp_path / "remote"))
    original = ArtifactStore.put_object
    calls = {"n": 0}

    def flaky(self: ArtifactStore, digest: str, chunks: object) -> bool:
        calls["n"] += 1
        if calls["n"] > 10:
            raise OSError("connection reset")
        return original(self, digest, chunks)  # type: ignore[arg-type]

    monkeypatch.setattr(ArtifactStore, "put_object", flaky)
    with pytest.raises(OSError):
        transfer(store, remote, [tree], workers=1)
    monkeypatch.setattr(ArtifactStore, "put_object", original)
    landed = len(list(remote.iter_objects()))
    assert 0 < landed < 31
    assert not remote.exists([tree])  # the tree moves only after all its files
    report = transfer(store, remote, [tree])
    assert report.moved == 31 - landed and report.present == landed


def test_missing_s3fs_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)
    with pytest.raises(MissingExtra) as caught:
        open_artifacts("s3://bucket/keel")
    assert "install keel[s3]" in (caught.value.hint or "")


def test_unreachable_remote_says_which_and_why(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("s3fs")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDSECRETLOOKING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    store = open_artifacts("s3://bucket/keel", options={"endpoint_url": "http://127.0.0.1:9"}, name="origin")
    with pytest.raises(RemoteUnavailable) as caught:
        store.exists(["6" * 64])
    message = caught.value.message
    assert "remote 'origin' (s3://bucket/keel)" in message
    assert "very-secret-value" not in message and "AKIDSECRETLOOKING" not in message


def test_credentials_in_url_are_not_shown() -> None:
    from keel.artifacts.remote_fs import redact

    assert redact("sftp://user:hunter2@host/path") == "sftp://host/path"
