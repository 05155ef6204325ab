"""Through a server, a version may reference only objects its project can read, and `rm` is audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.errors import NotFound
from keel.datasets.schemas import NewVersion
from keel.testing.auth import AuthWorld


def _content(digest: str, size: int) -> NewVersion:
    return NewVersion(
        kind="files", digest=digest, layout="file", source_name="blob.bin", format="bin", files=1, size=size
    )


def test_a_version_cannot_borrow_another_projects_object(tmp_path: Path) -> None:
    world = AuthWorld(tmp_path / "ws")
    world.project("mine")
    world.project("secret")
    admin = world.client(world.admin_token)
    secret = admin.artifacts.upload(project="secret", data=[b"secret bytes"])
    eddie = world.client(world.user("eddie", role="editor", project="mine"))

    with pytest.raises(NotFound) as borrowed:
        eddie.data.add_version(project="mine", name="stolen", content=_content(secret.digest, secret.size))
    with pytest.raises(NotFound) as made_up:
        eddie.data.add_version(project="mine", name="stolen", content=_content("ab" * 32, 3))
    # The same answer for a hidden object and a missing one: nothing is revealed.
    assert borrowed.value.message.split(", e.g.")[0] == made_up.value.message.split(", e.g.")[0]
    assert eddie.data.ls(project="mine").items == []

    mine = eddie.artifacts.upload(project="mine", data=[b"my bytes"])
    added = eddie.data.add_version(project="mine", name="own", content=_content(mine.digest, mine.size))
    assert added.created and added.version.number == 1


def test_rm_is_an_audit_event(tmp_path: Path) -> None:
    world = AuthWorld(tmp_path / "ws")
    world.project("mine")
    eddie = world.client(world.user("eddie", role="editor", project="mine"))
    blob = eddie.artifacts.upload(project="mine", data=[b"bytes"])
    eddie.data.add_version(project="mine", name="ds", content=_content(blob.digest, blob.size))
    eddie.data.rm(project="mine", name="ds")
    events = [e for e in world.client(world.admin_token).audit.ls().items if e.action == "dataset.delete"]
    assert len(events) == 1 and events[0].actor == "eddie"
