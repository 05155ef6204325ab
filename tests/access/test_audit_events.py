"""Other capabilities record their deletions with ``ctx.audit``: who (the signed-in caller), from
where, in the transaction of the change, readable with ``audit ls``, never editable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.context import Context, Service
from keel.core.errors import Conflict
from keel.core.operations import GLOBAL, Action, operation, project_from
from keel.projects.service import find_project
from keel.server import create_app
from keel.testing.auth import AuthWorld
from keel.testing.fixtures import new_workspace


class ScratchService(Service):
    """A capability that exists only in this test and deletes things."""

    name = "scratch"

    @operation(
        "DELETE",
        "/api/v1/scratch/{project}/things/{thing}",
        action=Action.WRITE,
        project=project_from("project"),
    )
    def rm(self, project: str, thing: str) -> str:
        """Delete a thing, recording the deletion with the change."""
        with self.store.write() as session:
            project_id = find_project(session, project).id
            self.ctx.audit(session, "thing.delete", f"thing:{thing}", project_id=project_id, name=thing)
            if thing == "locked":
                raise Conflict(f"thing {thing!r} is locked")  # the change and its event roll back
        return thing

    @operation("POST", "/api/v1/scratch/gc", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def gc(self) -> int:
        """A deletion outside the database: the event gets a transaction of its own."""
        self.ctx.audit(None, "thing.gc", "things", deleted=3)
        return 3


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = AuthWorld(tmp_path / "ws")
    w.project("churn")
    token = w.user("eddie", role="editor", project="churn")
    http = TestClient(create_app(w.ctx, services=[ScratchService]), raise_server_exceptions=False)
    return w, token, http


def test_a_deletion_is_an_event_with_who_what_and_from_where(world: Any) -> None:
    w, token, http = world
    auth = {"Authorization": f"Bearer {token}"}
    assert http.delete("/api/v1/scratch/churn/things/t1", headers=auth).status_code == 200
    admin = w.client(w.admin_token)
    [event] = admin.audit.ls(action="thing.delete").items
    assert (event.actor, event.target, event.address) == ("eddie", "thing:t1", "testclient")
    assert event.project_id == admin.projects.get("churn").id and event.details == {"name": "t1"}
    assert [e.target for e in admin.audit.ls(project="churn", action="thing.delete").items] == ["thing:t1"]


def test_a_refused_or_failed_deletion_records_nothing(world: Any) -> None:
    w, token, http = world
    locked = http.delete("/api/v1/scratch/churn/things/locked", headers={"Authorization": f"Bearer {token}"})
    assert locked.status_code == 409
    anonymous = http.delete("/api/v1/scratch/churn/things/t2")
    assert anonymous.status_code == 401
    outsider = w.user("otto")
    hidden = http.delete("/api/v1/scratch/churn/things/t3", headers={"Authorization": f"Bearer {outsider}"})
    assert hidden.status_code == 404
    assert w.client(w.admin_token).audit.ls(action="thing.delete").items == []


def test_an_event_outside_a_transaction_gets_its_own(world: Any) -> None:
    w, _, http = world
    assert http.post("/api/v1/scratch/gc", headers={"Authorization": f"Bearer {w.admin_token}"}).json() == 3
    [event] = w.client(w.admin_token).audit.ls(action="thing.gc").items
    assert (event.actor, event.target, event.project_id, event.details) == (
        "root",
        "things",
        None,
        {"deleted": 3},
    )


def test_single_user_mode_records_the_local_admin(tmp_path: Path) -> None:
    from keel.access.audit import AuditService
    from keel.core.operations import local_admin

    ctx = Context(new_workspace(tmp_path / "ws"))
    ctx.audit(None, "thing.delete", "thing:x")
    [event] = AuditService(ctx).ls(action="thing.delete").items
    assert event.actor == local_admin().name and event.address is None


def test_no_operation_edits_or_deletes_an_event(world: Any) -> None:
    w, _, _ = world
    audit_routes = [
        (sorted(r.methods), r.path)
        for r in w.app.routes
        if getattr(r, "path", "").startswith("/api/v1/audit")
    ]
    assert audit_routes == [(["GET"], "/api/v1/audit")]
