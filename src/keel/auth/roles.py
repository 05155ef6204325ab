"""Roles on a project, what each allows, and reading and writing role bindings."""

from __future__ import annotations

from typing import Final, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.auth.models import RoleBindingRow
from keel.core.ids import new_id
from keel.core.operations import Action
from keel.core.timeutil import utcnow

Role = Literal["viewer", "editor", "admin"]
ROLES: Final[tuple[Role, ...]] = ("viewer", "editor", "admin")
#: viewer < editor < admin: each role can do what the ones before it can.
RANK: Final[dict[str, int]] = {"viewer": 1, "editor": 2, "admin": 3}
#: The least role each project action needs.
NEEDS: Final[dict[Action, Role]] = {Action.READ: "viewer", Action.WRITE: "editor", Action.ADMIN: "admin"}


def allows(role: str | None, action: Action) -> bool:
    """Whether ``role`` is enough for the project ``action``."""
    needed = NEEDS.get(action)
    return role is not None and needed is not None and RANK.get(role, 0) >= RANK[needed]


def role_of(session: Session, user_id: str, project_id: str) -> str | None:
    """The user's role on the project, or None."""
    return session.execute(
        select(RoleBindingRow.role).where(
            RoleBindingRow.user_id == user_id, RoleBindingRow.project_id == project_id
        )
    ).scalar_one_or_none()


def projects_of(session: Session, user_id: str) -> frozenset[str]:
    """Ids of every project the user holds a role on."""
    rows = session.execute(select(RoleBindingRow.project_id).where(RoleBindingRow.user_id == user_id))
    return frozenset(rows.scalars())


def binding(session: Session, user_id: str, project_id: str) -> RoleBindingRow | None:
    return session.execute(
        select(RoleBindingRow).where(
            RoleBindingRow.user_id == user_id, RoleBindingRow.project_id == project_id
        )
    ).scalar_one_or_none()


def admin_count(session: Session, project_id: str) -> int:
    """How many users are admins of the project."""
    return int(
        session.execute(
            select(func.count())
            .select_from(RoleBindingRow)
            .where(RoleBindingRow.project_id == project_id, RoleBindingRow.role == "admin")
        ).scalar_one()
    )


def set_role(session: Session, user_id: str, project_id: str, role: Role, granted_by: str) -> RoleBindingRow:
    """Give the user ``role`` on the project, replacing any role held before."""
    row = binding(session, user_id, project_id)
    if row is None:
        row = RoleBindingRow(
            id=new_id(),
            user_id=user_id,
            project_id=project_id,
            role=role,
            granted_by=granted_by,
            created_at=utcnow(),
        )
        session.add(row)
    else:
        row.role = role
        row.granted_by = granted_by
    session.flush()
    return row
