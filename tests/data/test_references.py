"""A version's references are written by the data service alone, the same whichever way the version came.

The local SDK and the CLI record versions in-process, a remote client through
REST; either way the folder's files must be readable through the project
(the tree's contents are recorded), or a server on the same workspace could
not serve a folder the local CLI added.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keel.artifact_service.visibility import visible
from keel.artifacts.references import TREE_OWNER, ArtifactRef
from keel.client import Client
from keel.core.errors import NotFound
from keel.data import add
from keel.datasets.schemas import NewVersion
from keel.projects.service import find_project


def test_a_locally_added_folder_is_readable_through_its_project(
    make_keel: Callable[..., Client], tmp_path: Path
) -> None:
    from sqlalchemy import select

    client = make_keel()
    client.projects.create(name="p")
    (tmp_path / "f" / "sub").mkdir(parents=True)
    (tmp_path / "f" / "sub" / "a.txt").write_text("a")
    (tmp_path / "f" / "b.txt").write_text("b")
    version = add(tmp_path / "f", "folder", project="p", client=client).version
    ctx = client.backend.ctx  # type: ignore[attr-defined]
    files = sorted({e.digest for e in ctx.artifacts.read_tree(version.digest)})
    with ctx.store.read() as session:
        project_id = find_project(session, "p").id
        assert visible(session, project_id, files) == set(files)
        owners = set(
            session.execute(select(ArtifactRef.owner).where(ArtifactRef.digest.in_(files))).scalars()
        )
    assert owners == {TREE_OWNER + version.digest}


def test_a_version_naming_a_missing_tree_is_refused_and_records_nothing(
    make_keel: Callable[..., Client],
) -> None:
    from sqlalchemy import func, select

    client = make_keel()
    client.projects.create(name="p")
    content = NewVersion(
        kind="files", digest="ab" * 32, layout="tree", source_name="f", format="files", files=1, size=1
    )
    ctx = client.backend.ctx  # type: ignore[attr-defined]
    with ctx.store.read() as session:
        before = session.execute(select(func.count()).select_from(ArtifactRef)).scalar_one()
    with pytest.raises(NotFound, match="not in the artifact store"):
        client.data.add_version(project="p", name="folder", content=content)
    with ctx.store.read() as session:
        assert session.execute(select(func.count()).select_from(ArtifactRef)).scalar_one() == before
    assert client.data.ls(project="p").items == []
