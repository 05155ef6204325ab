"""Users, tokens, roles and the audit log through the SDK (remote, in process, auth on).

Every bad input is a clear error that changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.core.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from keel.testing.auth import AuthWorld


@pytest.fixture
def world(tmp_path: Path) -> AuthWorld:
    w = AuthWorld(tmp_path / "ws")
    w.project("churn")
    return w


def test_user_add_prints_a_working_token_once(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    created = admin.users.add(name="alice", email="alice@example.com", can_create_projects=True)
    assert created.secret.startswith("keel_") and created.user.can_create_projects
    me = world.client(created.secret).users.whoami()
    assert me.name == "alice" and not me.is_admin
    listed = admin.tokens.ls(user="alice")
    assert [t.name for t in listed] == ["initial"]
    assert "secret" not in listed[0].model_dump()


def test_user_bad_inputs_change_nothing(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.users.add(name="alice")
    with pytest.raises(AlreadyExists, match="alice"):
        admin.users.add(name="alice", admin=True)
    assert not admin.users.get("alice").is_admin
    with pytest.raises(InvalidInput, match="name"):
        admin.users.add(name="../evil")
    with pytest.raises(InvalidInput, match="email"):
        admin.users.add(name="bob", email="not-an-email")
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        admin.users.get("ghost")
    with pytest.raises(NotFound, match="ghost"):
        admin.users.edit(name="ghost", admin=True)
    assert [u.name for u in admin.users.ls().items] == ["alice", "root"]


def test_last_admin_cannot_be_removed(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    with pytest.raises(Conflict, match="last enabled admin"):
        admin.users.edit(name="root", admin=False)
    with pytest.raises(Conflict, match="last enabled admin"):
        admin.users.edit(name="root", disabled=True)
    assert admin.users.get("root").is_admin and not admin.users.get("root").disabled
    admin.users.add(name="ops", admin=True)
    assert not admin.users.edit(name="root", admin=False).is_admin


def test_disabling_a_user_stops_its_tokens(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    token = admin.users.add(name="bob").secret
    world.client(token).users.whoami()
    admin.users.edit(name="bob", disabled=True)
    with pytest.raises(Unauthenticated, match="disabled"):
        world.client(token).users.whoami()
    with pytest.raises(Conflict, match="disabled"):
        admin.tokens.create(name="again", user="bob")


def test_tokens_create_expire_revoke(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    alice = world.client(admin.users.add(name="alice").secret)
    issued = alice.tokens.create(name="laptop", expires="30d")
    assert issued.token.user == "alice" and issued.token.expires_at is not None
    laptop = world.client(issued.secret)
    assert laptop.users.whoami().name == "alice"
    assert {t.name for t in alice.tokens.ls()} == {"initial", "laptop"}
    revoked = alice.tokens.revoke(issued.token.id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthenticated, match="revoked"):
        laptop.users.whoami()
    with pytest.raises(Conflict, match="revoked already"):
        alice.tokens.revoke(issued.token.id)
    with pytest.raises(NotFound, match="no token"):
        alice.tokens.revoke("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert {t.name for t in alice.tokens.ls(include_revoked=True)} == {"initial", "laptop"}


def test_token_bad_inputs(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    alice_token = admin.users.add(name="alice").secret
    admin.users.add(name="bob")
    alice = world.client(alice_token)
    with pytest.raises(InvalidInput, match="not a duration"):
        alice.tokens.create(name="x", expires="soon")
    with pytest.raises(InvalidInput, match="scope"):
        admin.tokens.create(name="x", user="bob", scope="write")
    with pytest.raises(InvalidInput, match="needs the deployment"):
        admin.tokens.create(name="x", user="bob", scope="predict")
    with pytest.raises(InvalidInput, match="only for serving tokens"):
        admin.tokens.create(name="x", user="bob", deployment="churn-prod")
    with pytest.raises(PermissionDenied, match="only an admin"):
        alice.tokens.create(name="svc", scope="predict", deployment="churn-prod")
    with pytest.raises(PermissionDenied, match="own tokens"):
        alice.tokens.create(name="x", user="bob")
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        admin.tokens.create(name="x", user="ghost")
    bob_token = admin.tokens.ls(user="bob")[0]
    with pytest.raises(NotFound):
        alice.tokens.revoke(bob_token.id)  # another user's token: as if it did not exist
    assert {t.name for t in admin.tokens.ls(user="alice")} == {"initial"}
    assert {t.name for t in admin.tokens.ls(user="bob")} == {"initial"}


def test_roles_grant_change_revoke_and_bad_inputs(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.users.add(name="alice")
    admin.users.add(name="bob")
    assert admin.roles.grant(project="churn", user="alice", role="editor").role == "editor"
    assert admin.roles.grant(project="churn", user="alice", role="viewer").role == "viewer"
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        admin.roles.grant(project="churn", user="ghost", role="viewer")
    with pytest.raises(InvalidInput, match="role"):
        admin.roles.grant(project="churn", user="bob", role="owner")
    with pytest.raises(NotFound, match="no project named 'nosuch'"):
        admin.roles.grant(project="nosuch", user="bob", role="viewer")
    with pytest.raises(NotFound, match="bob has no role"):
        admin.roles.revoke(project="churn", user="bob")
    assert {(b.user, b.role) for b in admin.roles.ls(project="churn")} == {
        ("alice", "viewer"),
        ("root", "admin"),
    }


def test_last_project_admin_cannot_be_removed(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    with pytest.raises(Conflict, match="last admin of project 'churn'"):
        admin.roles.revoke(project="churn", user="root")
    with pytest.raises(Conflict, match="last admin"):
        admin.roles.grant(project="churn", user="root", role="viewer")
    assert [(b.user, b.role) for b in admin.roles.ls(project="churn")] == [("root", "admin")]
    admin.users.add(name="alice")
    admin.roles.grant(project="churn", user="alice", role="admin")
    admin.roles.revoke(project="churn", user="root")
    assert [b.user for b in admin.roles.ls(project="churn")] == ["alice"]


def test_creator_becomes_project_admin_and_creation_needs_the_right(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    maker = world.client(admin.users.add(name="maker", can_create_projects=True).secret)
    plain = world.client(admin.users.add(name="plain").secret)
    maker.projects.create(name="fraud")
    assert [(b.user, b.role) for b in maker.roles.ls(project="fraud")] == [("maker", "admin")]
    with pytest.raises(PermissionDenied, match="may not create projects"):
        plain.projects.create(name="sneaky")
    with pytest.raises(NotFound):
        plain.projects.get("sneaky")
    assert [p.name for p in maker.projects.ls().items] == ["fraud"]
    assert plain.projects.ls().items == []


def test_audit_records_who_what_when_where(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.users.add(name="alice")
    admin.roles.grant(project="churn", user="alice", role="editor")
    token = admin.tokens.create(name="ci", user="alice")
    admin.tokens.revoke(token.token.id)
    events = admin.audit.ls().items
    actions = [e.action for e in events]
    assert actions[:4] == ["token.revoke", "token.issue", "role.grant", "token.issue"]
    assert "user.add" in actions
    grant = next(e for e in events if e.action == "role.grant" and e.target == "user:alice")
    assert grant.actor == "root" and grant.address == "testclient" and grant.details["role"] == "editor"
    churn = admin.audit.ls(project="churn").items
    assert {e.action for e in churn} == {"role.grant"}
    assert [e.action for e in admin.audit.ls(action="token.revoke").items] == ["token.revoke"]
    assert admin.audit.ls(since="1d", limit=2).next_token is not None
    with pytest.raises(InvalidInput, match="since"):
        admin.audit.ls(since="yesterday")


def test_audit_listing_needs_admin_rights(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.users.add(name="ed")
    admin.roles.grant(project="churn", user="ed", role="editor")
    ed = world.client(admin.tokens.create(name="t", user="ed").secret)
    with pytest.raises(PermissionDenied):
        ed.audit.ls(project="churn")
    with pytest.raises(PermissionDenied):
        ed.audit.ls()


def test_audit_events_cannot_be_changed_through_any_operation() -> None:
    from keel.core.operations import operations_of
    from keel.services import SERVICES

    for service in SERVICES:
        for op in operations_of(service).values():
            if "/audit" in op.path:
                assert op.method == "GET", f"{op.name} would change audit events"
