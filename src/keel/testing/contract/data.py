"""Contract: data versioning behaves the same on local SQLite, local PostgreSQL and a remote server.

Against a server, the SDK hashes and profiles here, uploads only the missing
objects through the artifact service, and downloads what it reads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.client import Client
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.data import add, checkout, diff, get, lineage, log, ls, rm, show, tag
from keel.testing.fixtures import ServerProcess


@pytest.fixture
def data_client(keel_client: Client, tmp_path: Path) -> Client:
    """``keel_client``, given an artifact store where its backend has none (a bare database URL).

    A remote client stages in this test's own folder (the ``staging_dir`` setting).
    """
    settings = keel_client.settings
    if settings is None or settings.home or settings.artifacts_url:
        return keel_client
    from keel.client import connect
    from keel.core.settings import load_settings

    if keel_client.is_remote:
        overrides = {
            "server_url": settings.server_url,
            "token": settings.token,
            "staging_dir": str(tmp_path / "staging"),
        }
    else:
        overrides = {"db_url": settings.db_url, "artifacts_url": str(tmp_path / "objects")}
    return connect(settings=load_settings(overrides, env={}, cwd=tmp_path))


def _project(client: Client, unique: Callable[[str], str]) -> str:
    name = unique("data")
    client.projects.create(name=name)
    return name


def test_data_table_versions_roundtrip(
    data_client: Client, unique: Callable[[str], str], tmp_path: Path
) -> None:
    project = _project(data_client, unique)
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]}), path)
    first = add(path, "t", message="first", project=project, client=data_client)
    assert first.created and first.version.number == 1 and first.version.rows == 3
    assert first.version.profile is not None
    assert first.version.profile.column("c").categories == {"a": 2, "b": 1}
    assert not add(path, "t", project=project, client=data_client).created
    pq.write_table(pa.table({"id": [1, 2, 4], "v": [1.0, 5.0, 4.0], "c": ["a", "b", "c"]}), path)
    second = add(path, "t", project=project, client=data_client).version
    assert second.number == 2
    assert [v.number for v in log("t", project=project, client=data_client).items] == [2, 1]
    assert get(f"{project}/t@v1", client=data_client).to_arrow().column("v").to_pylist() == [1.0, 2.0, 3.0]
    result = diff("t@v1", "t@v2", key=["id"], project=project, client=data_client)
    assert result.rows is not None
    assert (result.rows.added, result.rows.removed, result.rows.changed) == (1, 1, 1)
    tagged = tag("t@v1", "golden", project=project, client=data_client)
    assert tagged.tags == ["golden"]
    with pytest.raises(Conflict, match="points to v1"):
        tag("t@v2", "golden", project=project, client=data_client)
    assert show("t@golden", project=project, client=data_client).number == 1
    assert [d.name for d in ls(project=project, client=data_client).items] == ["t"]


def test_data_folder_checkout(data_client: Client, unique: Callable[[str], str], tmp_path: Path) -> None:
    project = _project(data_client, unique)
    folder = tmp_path / "files"
    (folder / "a").mkdir(parents=True)
    (folder / "a" / "one.txt").write_text("one")
    (folder / "b.txt").write_text("two")
    version = add(folder, "files", project=project, client=data_client).version
    assert version.kind == "files" and version.files == 2
    out = tmp_path / "out"
    done = checkout(f"files@v{version.number}", out, include="a/*", project=project, client=data_client)
    assert done.files == 1 and (out / "a" / "one.txt").read_text() == "one"
    with pytest.raises(InvalidInput, match="matches"):
        checkout("files@latest", tmp_path / "none", include="zzz*", project=project, client=data_client)


def test_data_unknown_names_and_lineage(
    data_client: Client, unique: Callable[[str], str], tmp_path: Path
) -> None:
    project = _project(data_client, unique)
    with pytest.raises(NotFound, match="no dataset"):
        show("missing@v1", project=project, client=data_client)
    path = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    raw = add(path, "raw", project=project, client=data_client).version
    pq.write_table(pa.table({"x": [2]}), path)
    made = add(path, "clean", parents=["raw@v1"], project=project, client=data_client).version
    view = lineage("raw@v1", project=project, client=data_client)
    assert {"src": made.ref, "relation": "derived_from", "dst": raw.ref} in view.downstream
    assert view.labels[raw.ref] == f"{project}/raw@v1" and view.labels[made.ref] == f"{project}/clean@v1"
    rm("clean", project=project, client=data_client)
    assert [d.name for d in ls(project=project, client=data_client).items] == ["raw"]


def _cli(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run ``keel ...`` as a user would (a process of its own); fail with its output if it fails."""
    import os
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")} | env
    done = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", *argv], env=full, cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, f"keel {' '.join(argv)} exited {done.returncode}: {done.stderr}"
    return done.stdout


def _folder(root: Path, tag: str) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "one.txt").write_text(f"one {tag}")
    (root / "two.txt").write_text(f"two {tag}")
    return root


@pytest.mark.slow
def test_data_what_any_path_wrote_every_path_reads(
    keel_server: ServerProcess, unique: Callable[[str], str], tmp_path: Path
) -> None:
    """A folder versioned by the local SDK, the local CLI or through REST checks out through every path.

    The workspace is the one ``keel server`` serves: the local paths write to
    its database and store directly, the remote ones go through the server.
    """
    from keel.client import connect
    from keel.core.settings import load_settings

    home, url, token = str(keel_server.home), keel_server.url, keel_server.token or ""
    local = connect(settings=load_settings({"home": home}, env={}, cwd=tmp_path))
    remote = connect(
        settings=load_settings(
            {"server_url": url, "token": token, "staging_dir": str(tmp_path / "staging")},
            env={},
            cwd=tmp_path,
        )
    )
    project = _project(local, unique)
    local_env = {"KEEL_HOME": home}
    remote_env = {
        "KEEL_SERVER_URL": url,
        "KEEL_TOKEN": token,
        "KEEL_STAGING_DIR": str(tmp_path / "cli-stage"),
    }

    add(_folder(tmp_path / "sdk", "sdk"), "by-sdk", project=project, client=local)
    _cli(
        ["data", "add", str(_folder(tmp_path / "cli", "cli")), "--name", "by-cli", "--project", project],
        local_env,
        tmp_path,
    )
    add(_folder(tmp_path / "rest", "rest"), "by-rest", project=project, client=remote)

    for written in ("sdk", "cli", "rest"):
        address = f"{project}/by-{written}@v1"
        for reader, client in (("local", local), ("remote", remote)):
            out = tmp_path / "out" / written / reader
            assert checkout(address, out, client=client).files == 2
            assert (out / "sub" / "one.txt").read_text() == f"one {written}", (written, reader)
            assert get(address, client=client).open("two.txt").read() == f"two {written}".encode()
        out = tmp_path / "out" / written / "cli"
        _cli(["data", "checkout", address, str(out)], remote_env, tmp_path)
        assert (out / "two.txt").read_text() == f"two {written}"
