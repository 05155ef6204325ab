"""Who may call the model server: each route but health needs a bearer token.

- predicting needs a ``predict`` token for this deployment, or an editor or
  admin of the deployment's project (a global admin passes too);
- reading (server and model metadata, readiness of a model, ``/metrics``)
  also admits the project's viewers.

Token verification and role checks go through the workspace's
:class:`~keel.auth.authorizer.RoleAuthorizer`, so revocation and role changes
behave as on ``keel server``. A decision is remembered for at most the
authorizer's cache bound (five seconds): the common request does no
database read, and a revoked token stops working within that bound.
"""

from __future__ import annotations

import threading
import time
from typing import Final

from keel.auth.authorizer import RoleAuthorizer, is_serving
from keel.auth.verify import MAX_CACHE_S
from keel.core.errors import NotFound, PermissionDenied, Unauthenticated
from keel.core.operations import Action, Caller

PREDICT: Final = "predict"
READ: Final = "read"


class Guard:
    """Decides, per token and need, whether a request to deployment ``name`` (of ``project``) may proceed."""

    def __init__(self, authorizer: RoleAuthorizer, deployment: str, project: str) -> None:
        self.authorizer = authorizer
        self.deployment = deployment
        self.project = project
        self._ok: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def check(self, header: str | None, need: str) -> None:
        """Raise Unauthenticated (401) or PermissionDenied (403) unless the caller may ``need``.

        The token is verified on every request (the verifier's cache holds a
        verification at most five seconds, so a revoked token stops within
        that); only the role decision for a user is remembered, as long.
        """
        if not header or not header.lower().startswith("bearer "):
            raise Unauthenticated(
                "this endpoint needs a token", hint="send Authorization: Bearer <token> (keel token create)"
            )
        caller = self.authorizer.verify_token(header[7:].strip())
        if is_serving(caller):
            self.authorizer.authorize(caller, Action.PREDICT, self.deployment)
            return
        key = (caller.user_id or "", need)
        now = time.monotonic()
        if self._ok.get(key, 0.0) > now:
            return
        self._decide(caller, need)
        with self._lock:
            if len(self._ok) > 10_000:
                self._ok.clear()
            self._ok[key] = now + MAX_CACHE_S

    def _decide(self, caller: Caller, need: str) -> None:
        action = Action.WRITE if need == PREDICT else Action.READ
        try:
            self.authorizer.authorize(caller, action, self.project)
        except PermissionDenied:
            if need == PREDICT:
                raise PermissionDenied(
                    f"{caller.name} may not predict on {self.deployment!r}: that needs a predict token "
                    "for it, or editor on its project"
                ) from None
            raise
        except NotFound:
            raise PermissionDenied(f"{caller.name} has no access to deployment {self.deployment!r}") from None
