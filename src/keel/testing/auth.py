"""A server with auth on, in process, and people with roles on it: for tests that try to get in.

``AuthWorld`` builds a fresh workspace, the REST app with auth on (as ``keel
server`` runs it), and a global admin; ``world.user("bob", role="viewer",
project="churn")`` adds a user with a role and returns its token;
``world.http(token)`` is a TestClient sending that token; ``world.client(token)``
is the remote SDK speaking to the in-process app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from keel.auth.roles import Role
from keel.client import Client
from keel.client.backends import RemoteBackend
from keel.context import Context
from keel.core.operations import local_admin
from keel.server import create_app
from keel.testing.fixtures import new_workspace


class AuthWorld:
    """A workspace, its auth-on app, and helpers to add users with roles."""

    def __init__(self, root: Path, **settings: Any) -> None:
        self.settings = new_workspace(root, **settings)
        self.local = Client(_local_backend(self.settings))
        self.admin_token = str(self.local.users.add(name="root", admin=True).secret)
        self.ctx = Context(self.settings)
        self.app = create_app(self.ctx, auth=True)

    def http(self, token: str | None = None, **headers: str) -> TestClient:
        """A TestClient on the app; with ``token`` it signs every request with it."""
        client = TestClient(self.app, raise_server_exceptions=False)
        if token:
            client.headers["Authorization"] = f"Bearer {token}"
        client.headers.update(headers)
        return client

    def client(self, token: str | None) -> Client:
        """The remote SDK, talking to the in-process app with ``token``."""
        backend = RemoteBackend("http://testserver", token=token, http=self.http(), retries=0)
        return Client(backend)

    def project(self, name: str) -> None:
        """Create a project as the admin."""
        self.client(self.admin_token).projects.create(name=name)

    def user(
        self,
        name: str,
        *,
        role: Role | None = None,
        project: str | None = None,
        admin: bool = False,
        can_create_projects: bool = False,
    ) -> str:
        """Add a user (with ``role`` on ``project`` if given) and return its token."""
        admin_client = self.client(self.admin_token)
        secret = str(
            admin_client.users.add(name=name, admin=admin, can_create_projects=can_create_projects).secret
        )
        if role is not None:
            assert project is not None, "a role needs a project"
            admin_client.roles.grant(project=project, user=name, role=role)
        return secret


def _local_backend(settings: Any) -> Any:
    from keel.client.backends import InProcessBackend

    return InProcessBackend(Context(settings), caller=local_admin())
