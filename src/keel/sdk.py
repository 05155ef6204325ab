"""Module-level SDK calls (``keel.init``), the way MLflow users expect them."""

from __future__ import annotations

import threading
from pathlib import Path

from keel.client import Client, connect
from keel.core.errors import NotFound

_lock = threading.Lock()
_default: Client | None = None
_project: str | None = None


def init(
    project: str | None = None,
    *,
    create: bool = False,
    url: str | None = None,
    token: str | None = None,
    home: str | Path | None = None,
) -> Client:
    """Connect (local workspace or ``url``) and choose the project later calls use.

    With ``create=True`` a missing project is created; otherwise it must exist.
    """
    global _default, _project
    client = connect(url, token=token, home=home)
    if project is not None:
        try:
            client.projects.get(project)
        except NotFound:
            if not create:
                raise
            client.projects.create(name=project)
    with _lock:
        _default, _project = client, project
    return client


def client() -> Client:
    """The client ``init`` made, or one from the settings."""
    global _default
    with _lock:
        if _default is None:
            _default = connect()
        return _default


def current_project() -> str | None:
    """The project ``init`` chose, else the ``project`` setting."""
    if _project is not None:
        return _project
    c = client()
    return c.settings.project if c.settings else None
