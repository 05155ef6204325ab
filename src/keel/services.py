"""The services Keel exposes, in one list that the server and the SDK both read.

Adding a capability's service here is all it takes to give it REST routes and
SDK calls (local and remote).
"""

from __future__ import annotations

from typing import Final

from keel.access import AuditService, RoleService, TokenService, UserService
from keel.artifact_service import ArtifactService
from keel.context import Service
from keel.data.service import DataService
from keel.projects.service import ProjectService
from keel.tracking.service import RunService

SERVICES: Final[tuple[type[Service], ...]] = (
    ProjectService,
    ArtifactService,
    DataService,
    RunService,
    UserService,
    TokenService,
    RoleService,
    AuditService,
)
