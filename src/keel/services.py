"""The services Keel exposes, named once here; the server and the SDK both read this table.

Adding a capability's service to :data:`SERVICE_PATHS` is all it takes to give it
REST routes and SDK calls (local and remote). Services load on first use, so
``keel project ls`` imports the projects capability and not every other one;
the server loads them all.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from keel.context import Service

#: SDK attribute name -> "module:Class" of the service.
SERVICE_PATHS: Final[dict[str, str]] = {
    "projects": "keel.projects.service:ProjectService",
    "artifacts": "keel.artifact_service:ArtifactService",
    "data": "keel.datasets.service:DataService",
    "runs": "keel.tracking.service:RunService",
    "users": "keel.access:UserService",
    "tokens": "keel.access:TokenService",
    "roles": "keel.access:RoleService",
    "audit": "keel.access:AuditService",
}


def load_service(name: str) -> type[Service]:
    """The service class registered as ``name``; KeyError if there is none."""
    module, _, cls = SERVICE_PATHS[name].partition(":")
    service: type[Service] = getattr(importlib.import_module(module), cls)
    return service


def preload(name: str) -> threading.Thread:
    """Import service ``name``'s module on another thread, for a caller about to wait on the disk.

    Why: a service module brings SQLAlchemy and its tables (about 0.4 s of
    CPU). ``keel data add`` of new files ends with one ``syncfs`` that leaves
    the interpreter idle; importing meanwhile hides that cost. A later
    ``load_service`` on the caller's thread waits for this import through
    Python's module lock, so there is nothing to join; an import error is
    left for that call to raise, with its usual message.
    """

    def run() -> None:
        with contextlib.suppress(Exception):
            load_service(name)

    thread = threading.Thread(target=run, name=f"keel-preload-{name}")
    thread.start()
    return thread


def all_services() -> tuple[type[Service], ...]:
    """Every registered service class (imports every capability)."""
    return tuple(load_service(name) for name in SERVICE_PATHS)


def __getattr__(name: str) -> Any:
    if name == "SERVICES":  # the whole tuple, for the server and for tests
        return all_services()
    raise AttributeError(f"module 'keel.services' has no attribute {name!r}")
