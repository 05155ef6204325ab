"""Version records on a remote, imports, pointers and .gitignore entries: the parts, and their bad inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from keel.artifacts.remotes import add_remote
from keel.client import Client
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.data import add, pull, push, status_all
from keel.data.gitignore import ignore_beside
from keel.data.tracked import tracked_pointers
from keel.datasets.record import decode_record, encode_record


def _workspace(make_keel: Callable[..., Client], remote: Path, *names: str) -> Client:
    client = make_keel()
    home = client.settings.home_path if client.settings else None
    assert home is not None
    for name in names or ("origin",):
        add_remote(home, name, str(remote))
    from keel.client import connect
    from keel.core.settings import load_settings

    fresh = connect(settings=load_settings({"home": str(home)}, env={}))
    fresh.projects.create(name="p")
    return fresh


def _file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_a_record_round_trips_and_bad_records_are_refused(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    client = make_keel()
    client.projects.create(name="p")
    version = add(_file(tmp_path, "a.txt", "a"), "a", project="p", client=client, message="m").version
    assert decode_record(encode_record(version), "here") == version
    assert encode_record(version) == encode_record(version)  # one version, one object
    with pytest.raises(InvalidInput, match="not a dataset version record"):
        decode_record(b"\xff not json", "obj")
    with pytest.raises(InvalidInput, match="not a dataset version record"):
        decode_record(json.dumps({"kind": "other"}).encode(), "obj")
    body = json.loads(encode_record(version))
    with pytest.raises(InvalidInput, match="format 99"):
        decode_record(json.dumps({**body, "format": 99}).encode(), "obj")
    with pytest.raises(InvalidInput, match="malformed"):
        decode_record(json.dumps({**body, "version": {"id": 1}}).encode(), "obj")


def test_import_refuses_a_record_of_another_name_or_clashing_content(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    client = make_keel()
    client.projects.create(name="p")
    one = add(_file(tmp_path, "a.txt", "one"), "a", project="p", client=client).version
    with pytest.raises(InvalidInput, match="of dataset 'a', not 'b'"):
        client.data.import_version(project="p", name="b", version=one)
    assert not client.data.import_version(project="p", name="a", version=one).created
    two = add(_file(tmp_path, "a.txt", "two"), "a", project="p", client=client, pointer=False).version
    clash = two.model_copy(update={"number": 1, "id": "01JCLASH0000000000000000000"})
    with pytest.raises(Conflict, match="other content"):
        client.data.import_version(project="p", name="a", version=clash)
    missing = one.model_copy(update={"number": 9, "digest": "ab" * 32, "id": "01JMISSING00000000000000000"})
    with pytest.raises(NotFound, match="not in the artifact store"):
        client.data.import_version(project="p", name="a", version=missing)
    assert [v.number for v in client.data.log(project="p", name="a").items] == [2, 1]


def test_push_then_pull_into_a_fresh_workspace_keeps_numbers(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    remote = tmp_path / "remote"
    origin = _workspace(make_keel, remote)
    for text in ("1", "2"):
        add(_file(tmp_path / "o", "t.txt", text), "t", project="p", client=origin, message=f"v{text}")
    report = push(client=origin, project="p")
    assert report.remote == "origin" and report.records == 2 and report.versions == ["p/t@v1", "p/t@v2"]
    assert push(client=origin, project="p").records == 0  # nothing new
    other = _workspace(make_keel, remote)
    pulled = pull("origin", "p/t@v2", client=other)
    assert pulled.versions == ["p/t@v2"] and pulled.records == 1
    got = other.data.version(project="p", name="t", version="v2")
    assert got.message == "v2" and got.id == origin.data.version(project="p", name="t", version="v2").id
    with pytest.raises(NotFound, match="no record of p/t@v7"):
        pull("origin", "p/t@v7", client=other)


def test_which_remote_when_none_is_named(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    client = _workspace(make_keel, tmp_path / "r", "a", "b")
    add(_file(tmp_path / "o", "t.txt", "1"), "t", project="p", client=client)
    with pytest.raises(NotFound, match="which remote"):
        push(client=client, project="p")
    with pytest.raises(NotFound, match="no remote named 'c'"):
        push("c", client=client, project="p")


def test_pull_with_no_pointer_files_says_so(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    client = _workspace(make_keel, tmp_path / "r")
    with pytest.raises(InvalidInput, match="no pointer files"):
        pull(client=client)


def test_gitignore_entry_is_written_once_and_only_inside_git(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    data = _file(tmp_path / "repo" / "data", "t.csv", "a")
    assert ignore_beside(data) == tmp_path / "repo" / "data" / ".gitignore"
    ignore_beside(data)
    assert (tmp_path / "repo" / "data" / ".gitignore").read_text() == "/t.csv\n"
    assert ignore_beside(_file(tmp_path / "plain", "t.csv", "a")) is None
    assert not (tmp_path / "plain" / ".gitignore").exists()


def test_tracked_pointers_skip_tracked_folders_and_status_all_reports_each(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    client = make_keel()
    client.projects.create(name="p")
    root = client.settings.home_path.parent if client.settings and client.settings.home_path else tmp_path
    folder = root / "imgs"
    _file(folder, "a.png", "a")
    _file(folder / "nested", "b.png", "b")
    (folder / "nested" / "decoy.keel").write_text("not a pointer")  # inside a tracked folder: not entered
    add(folder, "imgs", project="p", client=client)
    add(_file(root, "t.txt", "t"), "t", project="p", client=client)
    assert tracked_pointers(root) == [root / "imgs.keel", root / "t.txt.keel"]
    (root / "t.txt").write_text("changed")
    states = {t.address: t.state for t in status_all(client=client)}
    assert states == {"p/imgs@v1": "clean", "p/t@v1": "changed"}
    (root / "t.txt").unlink()
    assert {t.address: t.state for t in status_all(client=client)}["p/t@v1"] == "missing"


def test_status_all_and_push_need_a_workspace_not_a_server(tmp_path: Path) -> None:
    from keel.client.backends import RemoteBackend
    from keel.core.errors import NotSupportedRemotely
    from keel.core.settings import load_settings

    settings = load_settings({"server_url": "http://127.0.0.1:9"}, env={}, cwd=tmp_path)
    client = Client(RemoteBackend("http://127.0.0.1:9"), settings)
    with pytest.raises(InvalidInput, match="has none"):
        status_all(client=client)
    with pytest.raises(NotSupportedRemotely):
        push("origin", client=client, project="p")
