"""The latest-version head read straight from SQLite: it must agree with the data service, or stay silent.

`keel data status` and an unchanged `keel data add` answer from this head
without importing SQLAlchemy; these tests hold that shortcut to the service's
answer and check the commands really skip the ORM.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from keel.client import Client
from keel.data import add, status
from keel.datasets.heads import VersionHead, latest_head
from keel.store.readonly import read_sqlite, sqlite_file

PROJECT = "vision"


def _folder(root: Path, files: dict[str, str]) -> Path:
    """Files dated 10 s ago, so the stat cache keeps them (fresher ones are "racily clean")."""
    past = time.time() - 10
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
        os.utime(root / rel, (past, past))
    return root


def _service_head(client: Client, dataset: str) -> VersionHead:
    return VersionHead.of(client.data.version(project=PROJECT, name=dataset, version="latest"))


def test_head_matches_the_service_as_versions_come_and_go(data_client: Client, tmp_path: Path) -> None:
    url = data_client.settings.db_url
    assert latest_head(url, PROJECT, "imgs") is None  # no dataset yet: the service answers (NotFound)
    folder = _folder(tmp_path / "imgs", {"a.txt": "a", "b/c.txt": "c"})
    add(folder, "imgs", project=PROJECT, client=data_client)
    assert latest_head(url, PROJECT, "imgs") == _service_head(data_client, "imgs")
    (folder / "a.txt").write_text("changed")
    add(folder, "imgs", project=PROJECT, client=data_client)
    other = _folder(tmp_path / "other", {"x.txt": "x"})
    add(other, "other", project=PROJECT, client=data_client)
    head = latest_head(url, PROJECT, "imgs")
    assert head == _service_head(data_client, "imgs") and head is not None and head.number == 2
    assert head.address == f"{PROJECT}/imgs@v2"
    data_client.data.rm(project=PROJECT, name="imgs")
    assert latest_head(url, PROJECT, "imgs") is None  # removed: the service says NotFound
    assert latest_head(url, "no-such-project", "other") is None


def test_other_databases_and_other_schemas_are_left_to_the_service(
    data_client: Client, tmp_path: Path
) -> None:
    assert sqlite_file("postgresql+psycopg://postgres@127.0.0.1/test") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite:///x.db?mode=ro") is None
    assert latest_head("sqlite:///" + str(tmp_path / "missing.db"), PROJECT, "x") is None
    db = sqlite_file(data_client.settings.db_url)
    assert db is not None and db.is_file()
    with read_sqlite(data_client.settings.db_url) as conn:
        assert conn is not None
    import sqlite3

    copy = tmp_path / "old.db"
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with sqlite3.connect(copy) as edit:
        edit.execute("UPDATE alembic_version SET version_num = '0001' WHERE version_num = '0005'")
    with read_sqlite(f"sqlite:///{copy}") as conn:
        assert conn is None  # a schema at another revision: the normal path reports it


def test_results_name_the_head_and_load_the_full_version_on_use(data_client: Client, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "imgs", {"a.txt": "a"})
    first = add(folder, "imgs", project=PROJECT, client=data_client)
    again = add(folder, "imgs", project=PROJECT, client=data_client)
    assert not again.created and again.head == first.head
    assert again.version == first.version  # loaded from the service on first use
    result = status(folder, client=data_client)
    assert result.clean and result.head == first.head and result.version.id == first.version.id


def _run_cli(home: str, cwd: Path, *argv: str) -> tuple[str, list[str]]:
    code = (
        "import sys, json\n"
        "from keel.cli.main import main\n"
        f"try:\n    main(['-c', 'home={home}', *{list(argv)!r}])\nexcept SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env)
    assert proc.returncode == 0, proc.stderr
    *text, modules = proc.stdout.strip().splitlines()
    return "\n".join(text), json.loads(modules)


@pytest.mark.parametrize("command", ["status", "add"])
def test_status_and_unchanged_add_never_import_sqlalchemy(
    make_keel: Callable[..., Client], tmp_path: Path, command: str
) -> None:
    client = make_keel()
    client.projects.create(name=PROJECT)
    folder = _folder(tmp_path / "imgs", {"a.txt": "a", "b/c.txt": "c"})
    add(folder, "imgs", project=PROJECT, client=client)
    home = str(client.settings.home_path)
    argv = ["data", "status", str(folder)] if command == "status" else ["data", "add", str(folder)]
    argv += ["--name", "imgs", "--project", PROJECT]
    out, modules = _run_cli(home, tmp_path, *argv)
    assert ("matches vision/imgs@v1" if command == "status" else "already imgs@v1") in out
    heavy = sorted(m for m in modules if m.split(".")[0] in ("sqlalchemy", "pyarrow", "httpx", "rich"))
    assert heavy == []
    assert "keel.cli.run_cmd" not in modules  # only the invoked command group was built


def test_a_changed_folder_lists_its_changes_and_adds_a_version(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    client = make_keel()
    client.projects.create(name=PROJECT)
    folder = _folder(tmp_path / "imgs", {"a.txt": "a"})
    add(folder, "imgs", project=PROJECT, client=client)
    (folder / "a.txt").write_text("new")
    home = str(client.settings.home_path)
    out, _ = _run_cli(home, tmp_path, "data", "status", str(folder), "--name", "imgs", "--project", PROJECT)
    assert "differs from vision/imgs@v1" in " ".join(out.split()) and "modified  a.txt" in out
    out, modules = _run_cli(
        home, tmp_path, "data", "add", str(folder), "--name", "imgs", "--project", PROJECT
    )
    assert "imgs@v2" in out and "sqlalchemy" in modules
    assert _service_head(client, "imgs").number == 2


def test_status_and_re_add_of_one_large_file_read_nothing(
    data_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single file is recognised by the stat cache too: no 1 GB re-hash for every status."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1 << 20))
    past = time.time() - 10
    os.utime(path, (past, past))
    first = add(path, "big", project=PROJECT, client=data_client)
    backend = data_client.backend.ctx.artifacts.backend  # type: ignore[attr-defined]
    read: list[Path] = []
    original = backend.write_file
    monkeypatch.setattr(backend, "write_file", lambda p: (read.append(p), original(p))[1])
    assert status(path, client=data_client).clean
    again = add(path, "big", project=PROJECT, client=data_client)
    assert not again.created and again.head == first.head
    assert read == []
    path.write_bytes(os.urandom(1 << 20))
    assert not status(path, client=data_client).clean
    assert read == [path]


def test_add_preloads_the_data_service_only_when_it_hashed_new_files(
    data_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keel.data.versioning

    calls: list[str] = []
    monkeypatch.setattr(keel.data.versioning, "preload", calls.append)
    folder = _folder(tmp_path / "imgs", {f"f{i}.txt": str(i) for i in range(5)})
    add(folder, "imgs", project=PROJECT, client=data_client)
    assert calls == ["data"]  # once, at the end of the hashing
    add(folder, "imgs", project=PROJECT, client=data_client)
    assert calls == ["data"]  # unchanged: nothing hashed, nothing preloaded
