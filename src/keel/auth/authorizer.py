"""The role-based authorizer: who may do what, on which project.

Decision table (``project`` is the project's name as the operation names it):

- ``PUBLIC``: anyone. Everything else needs a signed-in caller (401 otherwise).
- A serving token (scope ``predict:<deployment>``) may do only ``PREDICT`` on
  its one deployment; every other operation is refused (403).
- ``AUTHENTICATED``: any signed-in user; the operation filters what it lists
  through :meth:`RoleAuthorizer.visible_projects`.
- ``CREATE_PROJECT``: global admin or can-create-projects; ``GLOBAL_ADMIN``:
  global admin (403 otherwise).
- ``READ`` / ``WRITE`` / ``ADMIN`` on a project: global admins pass; others
  need viewer / editor / admin there. A caller with no role on the project
  gets 404 with the very message an unknown project gets, so it cannot tell
  which projects exist; with a lesser role, 403. With no project named,
  ``READ`` passes (the operation lists only visible projects) and ``WRITE`` /
  ``ADMIN`` need a global admin.
- ``PREDICT``: the deployment's serving token, or a global admin.

Role bindings are keyed by project id. The authorizer turns names into ids
with the ``resolve_project`` callable it is given (the projects capability's
lookup, wired in by ``keel.access``), so this L1 package never reads the
projects table. Roles are read from the database on each check (a grant or a
revoke applies at once); token verifications are cached up to five seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from keel.auth import audit, roles
from keel.auth.verify import MAX_CACHE_S, TokenVerifier
from keel.core.errors import NotFound, PermissionDenied, Unauthenticated
from keel.core.operations import Action, Caller
from keel.store.engine import Store

ProjectResolver = Callable[[str], str | None]


def is_serving(caller: Caller) -> bool:
    """Whether the caller is a serving token (it holds only a predict scope)."""
    return any(scope.startswith("predict:") for scope in caller.scopes)


def project_not_found(name: str) -> NotFound:
    """The same error an unknown project gives, for a project the caller may not see."""
    return NotFound(f"no project named {name!r}", hint="see `keel project ls`")


class RoleAuthorizer:
    """Per-project roles plus global flags, over the access tables; also verifies tokens."""

    def __init__(
        self,
        store: Callable[[], Store],
        resolve_project: ProjectResolver,
        *,
        cache_s: float = MAX_CACHE_S,
    ) -> None:
        self._store = store
        self.resolve_project = resolve_project
        self.verifier = TokenVerifier(store, ttl=cache_s)

    def verify_token(self, token: str) -> Caller:
        """The caller a bearer token stands for (Unauthenticated if it is not valid now)."""
        return self.verifier.verify(token)

    def invalidate(self) -> None:
        """Forget cached token verifications (after a revoke or a user change in this process)."""
        self.verifier.invalidate()

    def authorize(self, caller: Caller, action: Action, project: str | None) -> None:
        if action is Action.PUBLIC:
            return
        if caller.user_id is None:
            raise Unauthenticated(
                "this needs a signed-in caller", hint="send Authorization: Bearer <token> (KEEL_TOKEN)"
            )
        if is_serving(caller):
            if action is Action.PREDICT and project is not None and f"predict:{project}" in caller.scopes:
                return
            raise PermissionDenied(f"a serving token may only predict on its deployment, not {action.value}")
        if action is Action.AUTHENTICATED or caller.is_admin:
            return
        if action is Action.CREATE_PROJECT:
            if caller.can_create_projects:
                return
            raise PermissionDenied(f"{caller.name} may not create projects", hint="ask an admin")
        if action in (Action.GLOBAL_ADMIN, Action.PREDICT):
            raise PermissionDenied(f"{caller.name} is not an admin; {action.value} needs one")
        if project is None:
            if action is Action.READ:
                return
            raise PermissionDenied(f"{caller.name} may not {action.value} across projects")
        project_id = self.resolve_project(project)
        if project_id is None:
            raise project_not_found(project)
        self._check_role(caller, action, project_id, project)

    def authorize_project_id(self, caller: Caller, action: Action, project_id: str, label: str) -> None:
        """The check for an operation that learns its project's id only inside (a run by id, say).

        ``label`` names the object in the errors (``run 01J...``): a caller
        with no role on its project is told it does not exist.
        """
        if caller.user_id is None:
            raise Unauthenticated("this needs a signed-in caller")
        if is_serving(caller):
            raise PermissionDenied(f"a serving token may only predict on its deployment, not {action.value}")
        if caller.is_admin or action is Action.PUBLIC:
            return
        self._check_role(caller, action, project_id, label, by_id=True)

    def _check_role(
        self, caller: Caller, action: Action, project_id: str, label: str, *, by_id: bool = False
    ) -> None:
        assert caller.user_id is not None
        with self._store().read() as session:
            role = roles.role_of(session, caller.user_id, project_id)
        hidden = NotFound(f"no {label}") if by_id else project_not_found(label)
        if role is None:
            raise hidden
        needed = roles.NEEDS.get(action, "admin")
        if not roles.allows(role, action):
            where = label if by_id else f"project {label!r}"
            raise PermissionDenied(
                f"{caller.name} is {role} on {where}; this needs {needed}", hint="ask a project admin"
            )

    def visible_projects(self, caller: Caller) -> frozenset[str] | None:
        """Ids of the projects ``caller`` may see; None means all of them."""
        if caller.is_admin and not is_serving(caller):
            return None
        if caller.user_id is None or is_serving(caller):
            return frozenset()
        with self._store().read() as session:
            return roles.projects_of(session, caller.user_id)

    def project_created(self, session: Session, caller: Caller, project_id: str, name: str) -> None:
        """Make the creator the new project's admin, in the creating transaction, and log it."""
        if caller.user_id is None:
            return
        roles.set_role(session, caller.user_id, project_id, "admin", granted_by=caller.name)
        audit.record(
            session,
            caller,
            "role.grant",
            f"user:{caller.name}",
            project_id=project_id,
            role="admin",
            project=name,
            reason="created the project",
        )
