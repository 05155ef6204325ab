"""Role operations on a project: grant (or change), revoke, list.

A project's admins manage its roles (global admins too). Removing or
demoting a project's last admin is refused, so no project is left without
someone who can manage it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from keel.access.common import find_user, project_id
from keel.access.schemas import RoleBinding, UserName
from keel.auth import audit
from keel.auth.models import RoleBindingRow, UserRow
from keel.auth.roles import Role, admin_count, binding, set_role
from keel.context import Service
from keel.core.errors import Conflict, NotFound
from keel.core.operations import Action, current_caller, operation, project_from


def _schema(row: RoleBindingRow, user: str, project: str) -> RoleBinding:
    return RoleBinding(
        user=user, project=project, role=row.role, granted_by=row.granted_by, created_at=row.created_at
    )


def _last_admin(project: str, user: str) -> Conflict:
    return Conflict(
        f"{user} is the last admin of project {project!r}; refusing to remove it",
        hint=f"grant admin on {project} to someone else first",
    )


class RoleService(Service):
    """Per-project roles: viewer (read), editor (write), admin (manage roles, aliases, gates)."""

    name = "roles"

    @operation(
        "POST",
        "/api/v1/projects/{project}/roles",
        action=Action.ADMIN,
        project=project_from("project"),
        status_code=201,
    )
    def grant(self, project: str, user: UserName, role: Role) -> RoleBinding:
        """Give a user a role on a project, replacing the role it had there."""
        try:
            return self._grant(project, user, role)
        except IntegrityError:  # another grant for the same user and project won the race
            raise Conflict(f"{user}'s role on {project!r} changed at the same time; try again") from None

    def _grant(self, project: str, user: str, role: Role) -> RoleBinding:
        caller = current_caller()
        with self.store.write() as session:
            pid = project_id(session, project)
            target = find_user(session, user)
            before = binding(session, target.id, pid)
            previous = before.role if before is not None else None
            if previous == "admin" and role != "admin" and admin_count(session, pid) <= 1:
                raise _last_admin(project, user)
            row = set_role(session, target.id, pid, role, granted_by=caller.name)
            audit.record(
                session,
                caller,
                "role.grant",
                f"user:{user}",
                project_id=pid,
                project=project,
                role=role,
                previous=previous,
            )
            return _schema(row, user, project)

    @operation(
        "DELETE",
        "/api/v1/projects/{project}/roles/{user}",
        action=Action.ADMIN,
        project=project_from("project"),
    )
    def revoke(self, project: str, user: str) -> RoleBinding:
        """Take away a user's role on a project."""
        caller = current_caller()
        with self.store.write() as session:
            pid = project_id(session, project)
            target = find_user(session, user)
            row = binding(session, target.id, pid)
            if row is None:
                raise NotFound(f"{user} has no role on project {project!r}")
            if row.role == "admin" and admin_count(session, pid) <= 1:
                raise _last_admin(project, user)
            result = _schema(row, user, project)
            session.delete(row)
            audit.record(
                session, caller, "role.revoke", f"user:{user}", project_id=pid, project=project, role=row.role
            )
            return result

    @operation(
        "GET", "/api/v1/projects/{project}/roles", action=Action.ADMIN, project=project_from("project")
    )
    def ls(self, project: str) -> list[RoleBinding]:
        """Who holds which role on a project."""
        with self.store.read() as session:
            pid = project_id(session, project)
            rows = session.execute(
                select(RoleBindingRow, UserRow.name)
                .join(UserRow, UserRow.id == RoleBindingRow.user_id)
                .where(RoleBindingRow.project_id == pid)
                .order_by(UserRow.name)
            ).all()
            return [_schema(row, name, project) for row, name in rows]
