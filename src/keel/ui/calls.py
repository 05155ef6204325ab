"""The UI's only way to data: the operations behind the REST routes, run as the signed-in caller.

A page calls ``ops.call(caller, "runs.search", project=..., filter=...)``;
that goes through :func:`keel.core.operations.invoke` exactly as the REST
route of ``POST /api/v1/runs/search`` does (same input validation, same
permission check, same service method), so a page and its JSON twin cannot
disagree and the UI holds no query of its own. :meth:`Operations.path` names
the REST route of an operation so each page can link its JSON twin.
"""

from __future__ import annotations

import threading
from typing import Any

from keel.context import Context, Service
from keel.core.errors import NotFound, PermissionDenied
from keel.core.operations import Action, Caller, Operation, invoke, operations_of
from keel.services import load_service


class Operations:
    """Operations by name (``"runs.get"``), with one service instance per capability."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._services: dict[str, Service] = {}
        self._lock = threading.Lock()

    def _find(self, name: str) -> tuple[Service, Operation]:
        capability, _, method = name.partition(".")
        with self._lock:
            service = self._services.get(capability)
            if service is None:
                service = self._services[capability] = load_service(capability)(self.ctx)
        op = operations_of(type(service)).get(method)
        if op is None:  # a programming error in a page, not the user's
            raise LookupError(f"no operation {name}")
        return service, op

    def call(self, caller: Caller, name: str, /, **arguments: Any) -> Any:
        """Run operation ``name`` as ``caller``; raises what the REST route would answer with."""
        service, op = self._find(name)
        return invoke(op, service, arguments, caller=caller, authorizer=self.ctx.authorizer)

    def path(self, name: str, /, **params: str) -> str:
        """The REST path of operation ``name`` with its path fields filled in (the page's JSON twin)."""
        _, op = self._find(name)
        return op.path.format(**params)

    def may(self, caller: Caller, action: Action, project: str) -> bool:
        """Whether ``caller`` holds ``action`` on ``project``: the authorizer every operation asks.

        Used only to decide whether to show a control (a promote button); the
        operation behind the control checks again when it is used.
        """
        try:
            self.ctx.authorizer.authorize(caller, action, project)
        except (PermissionDenied, NotFound):
            return False
        return True
