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
    rm("clean", project=project, client=data_client)
    assert [d.name for d in ls(project=project, client=data_client).items] == ["raw"]
