"""The authorizer's every answer word for word, project creation's grant and audit event, role
bindings and the audit log (survivors of the mutation run over ``keel.auth``, issue 10.13)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keel.auth import audit, roles
from keel.auth.authorizer import RoleAuthorizer
from keel.auth.models import AuditEventRow, RoleBindingRow, UserRow
from keel.auth.single_user import SingleUserAuthorizer
from keel.context import Context
from keel.core.errors import KeelError, NotFound, PermissionDenied, Unauthenticated
from keel.core.ids import new_id
from keel.core.operations import Action, Caller, _current_caller
from keel.core.timeutil import utcnow
from keel.testing.fixtures import new_workspace

CHURN, FRAUD = "P" * 26, "F" * 26
PROJECTS = {"churn": CHURN, "fraud": FRAUD}


def _user(session: Any, name: str) -> str:
    uid = new_id()
    now = utcnow()
    session.add(
        UserRow(
            id=uid,
            name=name,
            email=None,
            is_admin=False,
            can_create_projects=False,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
    )
    session.flush()
    return uid


@pytest.fixture
def world(tmp_path: Path) -> Any:
    ctx = Context(new_workspace(tmp_path / "ws"))
    callers: dict[str, Caller] = {}
    with ctx.store.write() as session:
        for name in ("vic", "eddie", "ada", "nobody"):
            callers[name] = Caller(name=name, user_id=_user(session, name))
        roles.set_role(session, callers["vic"].user_id or "", CHURN, "viewer", granted_by="t")
        roles.set_role(session, callers["eddie"].user_id or "", CHURN, "editor", granted_by="t")
        roles.set_role(session, callers["ada"].user_id or "", CHURN, "admin", granted_by="t")
    callers["root"] = Caller(name="root", user_id=new_id(), is_admin=True)
    callers["svc"] = Caller(name="svc", user_id=new_id(), scopes=frozenset({"predict:churn-prod"}))
    callers["anon"] = Caller(name="anonymous")
    callers["admin-svc"] = Caller(
        name="asvc", user_id=new_id(), is_admin=True, scopes=frozenset({"predict:churn-prod"})
    )
    return ctx, RoleAuthorizer(lambda: ctx.store, PROJECTS.get), callers


MESSAGES: list[tuple[str, Action, str | None, type[KeelError], str, str | None]] = [
    (
        "anon",
        Action.READ,
        "churn",
        Unauthenticated,
        "this needs a signed-in caller",
        "send Authorization: Bearer <token> (KEEL_TOKEN)",
    ),
    (
        "svc",
        Action.READ,
        "churn",
        PermissionDenied,
        "a serving token may only predict on its deployment, not read",
        None,
    ),
    (
        "svc",
        Action.PREDICT,
        None,
        PermissionDenied,
        "a serving token may only predict on its deployment, not predict",
        None,
    ),
    (
        "nobody",
        Action.CREATE_PROJECT,
        None,
        PermissionDenied,
        "nobody may not create projects",
        "ask an admin",
    ),
    (
        "nobody",
        Action.GLOBAL_ADMIN,
        None,
        PermissionDenied,
        "nobody is not an admin; global_admin needs one",
        None,
    ),
    (
        "nobody",
        Action.PREDICT,
        "churn-prod",
        PermissionDenied,
        "nobody is not an admin; predict needs one",
        None,
    ),
    ("eddie", Action.WRITE, None, PermissionDenied, "eddie may not write across projects", None),
    ("nobody", Action.READ, "churn", NotFound, "no project named 'churn'", "see `keel project ls`"),
    ("nobody", Action.READ, "missing", NotFound, "no project named 'missing'", "see `keel project ls`"),
    (
        "vic",
        Action.WRITE,
        "churn",
        PermissionDenied,
        "vic is viewer on project 'churn'; this needs editor",
        "ask a project admin",
    ),
    (
        "eddie",
        Action.ADMIN,
        "churn",
        PermissionDenied,
        "eddie is editor on project 'churn'; this needs admin",
        "ask a project admin",
    ),
    (
        "vic",
        Action.ADMIN,
        "churn",
        PermissionDenied,
        "vic is viewer on project 'churn'; this needs admin",
        "ask a project admin",
    ),
]


@pytest.mark.parametrize(("who", "action", "project", "error", "message", "hint"), MESSAGES)
def test_each_refusal_says_exactly_why(
    world: Any,
    who: str,
    action: Action,
    project: str | None,
    error: type[KeelError],
    message: str,
    hint: str | None,
) -> None:
    _, authorizer, callers = world
    with pytest.raises(error) as caught:
        authorizer.authorize(callers[who], action, project)
    assert type(caught.value) is error
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_predict_on_its_own_deployment_and_read_without_a_project_pass(world: Any) -> None:
    _, authorizer, callers = world
    authorizer.authorize(callers["svc"], Action.PREDICT, "churn-prod")
    authorizer.authorize(callers["nobody"], Action.READ, None)
    authorizer.authorize(callers["anon"], Action.PUBLIC, None)
    authorizer.authorize(callers["ada"], Action.ADMIN, "churn")


BY_ID: list[tuple[str, Action, type[KeelError] | None, str | None]] = [
    ("anon", Action.READ, Unauthenticated, "this needs a signed-in caller"),
    ("svc", Action.READ, PermissionDenied, "a serving token may only predict on its deployment, not read"),
    ("nobody", Action.READ, NotFound, "no run 01RUN"),
    ("vic", Action.WRITE, PermissionDenied, "vic is viewer on run 01RUN; this needs editor"),
    ("vic", Action.READ, None, None),
    ("root", Action.ADMIN, None, None),
    ("nobody", Action.PUBLIC, None, None),
]


@pytest.mark.parametrize(("who", "action", "error", "message"), BY_ID)
def test_checks_by_project_id_name_the_object(
    world: Any, who: str, action: Action, error: type[KeelError] | None, message: str | None
) -> None:
    _, authorizer, callers = world
    if error is None:
        authorizer.authorize_project_id(callers[who], action, CHURN, "run 01RUN")
        return
    with pytest.raises(error) as caught:
        authorizer.authorize_project_id(callers[who], action, CHURN, "run 01RUN")
    assert caught.value.message == message


def test_a_role_nobody_defined_needs_admin_and_allows_nothing(world: Any) -> None:
    _, authorizer, callers = world
    for action in (Action.AUTHENTICATED, Action.CREATE_PROJECT):
        with pytest.raises(PermissionDenied) as caught:
            authorizer._check_role(callers["vic"], action, CHURN, "churn")
        assert caught.value.message == "vic is viewer on project 'churn'; this needs admin"
    assert not roles.allows("owner", Action.READ)
    assert not roles.allows(None, Action.READ)
    assert not roles.allows("admin", Action.PUBLIC)
    assert [roles.allows("viewer", a) for a in (Action.READ, Action.WRITE, Action.ADMIN)] == [
        True,
        False,
        False,
    ]
    assert [roles.allows("editor", a) for a in (Action.READ, Action.WRITE, Action.ADMIN)] == [
        True,
        True,
        False,
    ]


def test_who_sees_which_projects(world: Any) -> None:
    _, authorizer, callers = world
    assert authorizer.visible_projects(callers["anon"]) == frozenset()  # not signed in, not serving
    assert (
        authorizer.visible_projects(callers["admin-svc"]) == frozenset()
    )  # a serving token, even an admin's
    assert authorizer.visible_projects(callers["root"]) is None
    assert authorizer.visible_projects(callers["eddie"]) == {CHURN}


def test_creating_a_project_makes_the_creator_its_admin_and_records_it(world: Any) -> None:
    ctx, authorizer, callers = world
    creator = Caller(name="nobody", user_id=callers["nobody"].user_id, address="10.0.0.7")
    with ctx.store.write() as session:
        authorizer.project_created(session, creator, FRAUD, "fraud")
        authorizer.project_created(session, callers["anon"], "A" * 26, "anon-made")  # no user: no grant
    with ctx.store.read() as session:
        bindings = session.execute(
            select(RoleBindingRow).where(RoleBindingRow.project_id.in_([FRAUD, "A" * 26]))
        )
        assert [(b.user_id, b.role, b.granted_by) for b in bindings.scalars()] == [
            (creator.user_id, "admin", "nobody")
        ]
        events = list(
            session.execute(select(AuditEventRow).where(AuditEventRow.project_id == FRAUD)).scalars()
        )
    assert [(e.actor, e.action, e.target, e.address) for e in events] == [
        ("nobody", "role.grant", "user:nobody", "10.0.0.7")
    ]
    assert events[0].details == {"role": "admin", "project": "fraud", "reason": "created the project"}
    authorizer.authorize(creator, Action.ADMIN, "fraud")


def test_the_verifier_takes_the_authorizers_cache_time(world: Any) -> None:
    ctx, _, _ = world
    assert RoleAuthorizer(lambda: ctx.store, PROJECTS.get, cache_s=0).verifier.ttl == 0
    assert RoleAuthorizer(lambda: ctx.store, PROJECTS.get, cache_s=2.5).verifier.ttl == 2.5
    with pytest.raises(Unauthenticated, match="unknown token"):
        RoleAuthorizer(lambda: ctx.store, PROJECTS.get).verify_token("keel_" + "A" * 43)


def test_set_role_replaces_and_admin_count_counts_one_project(world: Any) -> None:
    ctx, _, callers = world
    vic, eddie, ada = (callers[n].user_id or "" for n in ("vic", "eddie", "ada"))
    with ctx.store.write() as session:
        assert roles.admin_count(session, CHURN) == 1
        roles.set_role(session, vic, FRAUD, "admin", granted_by="ada")  # another project: not counted
        assert roles.admin_count(session, CHURN) == 1 and roles.admin_count(session, FRAUD) == 1
        row = roles.set_role(session, eddie, CHURN, "admin", granted_by="root")
        assert (row.role, row.granted_by) == ("admin", "root")
        assert roles.admin_count(session, CHURN) == 2
        roles.set_role(session, ada, CHURN, "viewer", granted_by="root")
        assert roles.admin_count(session, CHURN) == 1
    with ctx.store.read() as session:
        assert (
            roles.role_of(session, vic, CHURN) == "viewer" and roles.role_of(session, vic, FRAUD) == "admin"
        )
        assert roles.binding(session, vic, FRAUD) is not None and roles.binding(session, eddie, FRAUD) is None
        assert roles.binding(session, ada, CHURN).granted_by == "root"  # type: ignore[union-attr]
        assert roles.projects_of(session, vic) == {CHURN, FRAUD}
        count = session.execute(select(RoleBindingRow).where(RoleBindingRow.user_id == eddie)).scalars().all()
        assert len(count) == 1  # replaced, not added


def test_audit_events_record_actor_address_target_and_details(world: Any) -> None:
    ctx, _, _ = world
    who = Caller(name="ada", user_id=new_id(), address="192.0.2.1")
    with ctx.store.write() as session:
        row = audit.record(session, who, "run.delete", "run:01X", project_id=CHURN, reason="cleanup")
        token = _current_caller.set(Caller(name="eddie", user_id=new_id(), address="192.0.2.2"))
        try:
            current = audit.record_current(
                session, "token.revoke", "token:01T", project_id=FRAUD, user="eddie"
            )
        finally:
            _current_caller.reset(token)
        ids = (row.id, current.id)
    with ctx.store.read() as session:
        events = {e.id: e for e in session.execute(select(AuditEventRow)).scalars()}
    first, second = events[ids[0]], events[ids[1]]
    assert (first.actor, first.action, first.target, first.project_id, first.address, first.details) == (
        "ada",
        "run.delete",
        "run:01X",
        CHURN,
        "192.0.2.1",
        {"reason": "cleanup"},
    )
    assert (
        second.actor,
        second.action,
        second.target,
        second.project_id,
        second.address,
        second.details,
    ) == (
        "eddie",
        "token.revoke",
        "token:01T",
        FRAUD,
        "192.0.2.2",
        {"user": "eddie"},
    )
    assert first.at is not None and len(first.id) == 26 and first.id != second.id


def test_single_user_mode_allows_the_admin_and_public_only() -> None:
    single = SingleUserAuthorizer()
    single.authorize(Caller(name="me", is_admin=True), Action.ADMIN, "churn")
    single.authorize(Caller(name="guest"), Action.PUBLIC, None)
    with pytest.raises(PermissionDenied) as caught:
        single.authorize(Caller(name="guest"), Action.READ, "churn")
    assert caught.value.message == "guest may not read here (single-user mode)"
