"""Single-user mode: the laptop workspace and direct database URLs."""

from __future__ import annotations

from keel.core.errors import PermissionDenied
from keel.core.operations import Action, Caller


class SingleUserAuthorizer:
    """Allows the implicit admin everything; refuses a caller that is not an admin.

    Several users share Keel only through ``keel server`` with auth on; a
    direct database URL is single-user admin mode.
    """

    def authorize(self, caller: Caller, action: Action, project: str | None) -> None:
        if action is Action.PUBLIC or caller.is_admin:
            return
        raise PermissionDenied(f"{caller.name} may not {action.value} here (single-user mode)")
