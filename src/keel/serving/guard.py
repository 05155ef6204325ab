"""Who may call the model server: each route but health needs a bearer token.

- predicting needs a ``predict`` token for this deployment, or an editor or
  admin of the deployment's project (a global admin passes too);
- reading (server and model metadata, readiness of a model, ``/metrics``)
  also admits the project's viewers.

Token verification and role checks go through the workspace's
:class:`~keel.auth.authorizer.RoleAuthorizer`, so revocation and role changes
behave as on ``keel server``. A decision is remembered for at most the
authorizer's cache bound (five seconds), so the common request does no
database read and a revoked token stops working within that bound.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Final

from keel.auth.authorizer import RoleAuthorizer, is_serving
from keel.auth.verify import MAX_CACHE_S
from keel.core.errors import NotFound, PermissionDenied, Unauthenticated
from keel.core.operations import Action

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
        """Raise Unauthenticated (401), PermissionDenied (403) or NotFound unless the caller may ``need``."""
        if not header or not header.lower().startswith("bearer "):
            raise Unauthenticated(
                "this endpoint needs a token", hint="send Authorization: Bearer <token> (keel token create)"
            )
        token = header[7:].strip()
        key = (hashlib.sha256(token.encode()).hexdigest(), need)
        now = time.monotonic()
        if self._ok.get(key, 0.0) > now:
            return
        self._decide(token, need)
        with self._lock:
            if len(self._ok) > 10_000:
                self._ok.clear()
            self._ok[key] = now + MAX_CACHE_S

    def _decide(self, token: str, need: str) -> None:
        caller = self.authorizer.verify_token(token)
        if is_serving(caller):
            self.authorizer.authorize(caller, Action.PREDICT, self.deployment)
            return
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
