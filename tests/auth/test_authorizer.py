"""The role authorizer's decision table, straight (no HTTP)."""

from __future__ import annotations

import pytest

from keel.auth.authorizer import RoleAuthorizer
from keel.auth.models import UserRow
from keel.auth.roles import set_role
from keel.context import Context
from keel.core.errors import NotFound, PermissionDenied, Unauthenticated
from keel.core.ids import new_id
from keel.core.operations import Action, Caller
from keel.core.timeutil import utcnow
from keel.testing.fixtures import new_workspace

PROJECTS = {"churn": "P" * 26, "fraud": "F" * 26}


@pytest.fixture(scope="module")
def authz(tmp_path_factory: pytest.TempPathFactory) -> tuple[RoleAuthorizer, dict[str, Caller]]:
    ctx = Context(new_workspace(tmp_path_factory.mktemp("authz")))
    callers: dict[str, Caller] = {}
    with ctx.store.write() as session:
        for name in ("viewer", "editor", "admin", "nobody"):
            uid = new_id()
            session.add(
                UserRow(
                    id=uid,
                    name=name,
                    email=None,
                    is_admin=False,
                    can_create_projects=False,
                    disabled=False,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
            session.flush()
            if name != "nobody":
                set_role(session, uid, PROJECTS["churn"], name, granted_by="t")  # type: ignore[arg-type]
            callers[name] = Caller(name=name, user_id=uid)
    callers["root"] = Caller(name="root", user_id=new_id(), is_admin=True)
    callers["creator"] = Caller(name="creator", user_id=new_id(), can_create_projects=True)
    callers["serving"] = Caller(name="svc", user_id=new_id(), scopes=frozenset({"predict:churn-prod"}))
    callers["anonymous"] = Caller(name="anonymous")
    return RoleAuthorizer(lambda: ctx.store, PROJECTS.get), callers


ALLOWED = {
    # (caller, action, project) -> expected outcome: None allowed, else the error class
    ("viewer", Action.READ, "churn"): None,
    ("viewer", Action.WRITE, "churn"): PermissionDenied,
    ("viewer", Action.ADMIN, "churn"): PermissionDenied,
    ("editor", Action.WRITE, "churn"): None,
    ("editor", Action.ADMIN, "churn"): PermissionDenied,
    ("admin", Action.ADMIN, "churn"): None,
    ("viewer", Action.READ, "fraud"): NotFound,
    ("nobody", Action.READ, "churn"): NotFound,
    ("nobody", Action.READ, "missing"): NotFound,
    ("nobody", Action.AUTHENTICATED, None): None,
    ("nobody", Action.CREATE_PROJECT, None): PermissionDenied,
    ("creator", Action.CREATE_PROJECT, None): None,
    ("creator", Action.GLOBAL_ADMIN, None): PermissionDenied,
    ("root", Action.GLOBAL_ADMIN, None): None,
    ("root", Action.ADMIN, "fraud"): None,
    ("editor", Action.WRITE, None): PermissionDenied,
    ("anonymous", Action.READ, "churn"): Unauthenticated,
    ("anonymous", Action.AUTHENTICATED, None): Unauthenticated,
    ("anonymous", Action.PUBLIC, None): None,
    ("serving", Action.PREDICT, "churn-prod"): None,
    ("serving", Action.PREDICT, "other"): PermissionDenied,
    ("serving", Action.READ, "churn"): PermissionDenied,
    ("serving", Action.AUTHENTICATED, None): PermissionDenied,
    ("nobody", Action.PREDICT, "churn-prod"): PermissionDenied,
}


@pytest.mark.parametrize(("who", "action", "project"), sorted(ALLOWED, key=str))
def test_decision_table(
    authz: tuple[RoleAuthorizer, dict[str, Caller]], who: str, action: Action, project: str | None
) -> None:
    authorizer, callers = authz
    expected = ALLOWED[(who, action, project)]
    if expected is None:
        authorizer.authorize(callers[who], action, project)
    else:
        with pytest.raises(expected):
            authorizer.authorize(callers[who], action, project)


def test_hidden_project_reads_exactly_like_a_missing_one(
    authz: tuple[RoleAuthorizer, dict[str, Caller]],
) -> None:
    authorizer, callers = authz
    with pytest.raises(NotFound) as hidden:
        authorizer.authorize(callers["nobody"], Action.READ, "churn")
    with pytest.raises(NotFound) as missing:
        authorizer.authorize(callers["nobody"], Action.READ, "nosuch")
    assert hidden.value.message.replace("churn", "X") == missing.value.message.replace("nosuch", "X")


def test_visible_projects(authz: tuple[RoleAuthorizer, dict[str, Caller]]) -> None:
    authorizer, callers = authz
    assert authorizer.visible_projects(callers["viewer"]) == {PROJECTS["churn"]}
    assert authorizer.visible_projects(callers["nobody"]) == frozenset()
    assert authorizer.visible_projects(callers["root"]) is None
    assert authorizer.visible_projects(callers["serving"]) == frozenset()


def test_by_id_check_for_operations_that_find_their_project_inside(
    authz: tuple[RoleAuthorizer, dict[str, Caller]],
) -> None:
    authorizer, callers = authz
    authorizer.authorize_project_id(callers["editor"], Action.WRITE, PROJECTS["churn"], "run R1")
    with pytest.raises(PermissionDenied):
        authorizer.authorize_project_id(callers["viewer"], Action.WRITE, PROJECTS["churn"], "run R1")
    with pytest.raises(NotFound, match="no run R1"):
        authorizer.authorize_project_id(callers["nobody"], Action.READ, PROJECTS["churn"], "run R1")
