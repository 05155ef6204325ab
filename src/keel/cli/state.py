"""What the root command's options set for every subcommand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CLIState:
    debug: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    #: The server this command talks to, once it made a remote client (errors are checked against it).
    server_url: str | None = None


STATE = CLIState()


def settings() -> Any:
    """The settings, with ``-c name=value`` flags on top."""
    from keel.core.settings import load_settings

    return load_settings(STATE.overrides)


def chosen_project(project: str | None) -> str:
    """``--project`` if given, else the current project (the ``project`` setting); never an empty name."""
    from keel.core.errors import InvalidInput

    name = project or settings().project
    if not name:
        raise InvalidInput(
            "no project chosen", hint="choose one: `keel project use NAME`, --project NAME or KEEL_PROJECT"
        )
    return str(name)


def client() -> Any:
    """A Client by the settings: remote with KEEL_SERVER_URL, else the local workspace."""
    from keel.client import connect
    from keel.core.workspace import require_workspace

    s = settings()
    if not s.server_url and s.sources.get("db_url") not in ("flag", "env", "config"):
        require_workspace(s)
    if s.server_url and not s.token:
        from keel.cli.credentials import token_for

        stored = token_for(s, s.server_url)
        if stored:
            from keel.core.settings import load_settings

            s = load_settings({**STATE.overrides, "token": stored})
    STATE.server_url = s.server_url or None
    return connect(settings=s)
