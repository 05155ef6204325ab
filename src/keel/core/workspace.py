"""The workspace: a ``.keel/`` folder with config.toml, keel.db, objects/ and cache/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from keel.core.errors import ConfigError, WorkspaceNotFound
from keel.core.settings import (
    BY_NAME,
    CONFIG_FILE,
    WORKSPACE_DIR,
    Settings,
    coerce_setting,
    read_config_file,
)

#: ``.keel/.gitignore``: git keeps the shared settings (which name the remotes) and nothing else,
#: so ``git add -A`` never commits the database, the objects, caches or spools. Everything is
#: ignored but the two named files, so folders added later are ignored too.
GITIGNORE = """\
# Written by `keel init`: commit config.toml (settings, remotes), never the database or objects.
/*
!/.gitignore
!/config.toml
"""


def create_workspace(root: Path) -> tuple[Path, bool]:
    """Create ``root/.keel`` (idempotent); returns the folder and whether it was new.

    Files already there (config.toml, .gitignore) are kept as the user left them.
    """
    home = root.resolve() / WORKSPACE_DIR
    created = not home.exists()
    for sub in ("objects", "cache", "tmp"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    config = home / CONFIG_FILE
    if not config.exists():
        config.write_text("# Keel workspace settings; see `keel config show`.\n", encoding="utf-8")
    ignore = home / ".gitignore"
    if not ignore.exists():
        ignore.write_text(GITIGNORE, encoding="utf-8")
    return home, created


def require_workspace(settings: Settings) -> Path:
    """The workspace folder, or WorkspaceNotFound with the hint to run ``keel init``."""
    home = settings.home_path
    if home is None or not home.is_dir():
        raise WorkspaceNotFound(
            "no Keel workspace here; run `keel init`",
            hint="or set KEEL_HOME, or KEEL_SERVER_URL to use a server",
        )
    return home


def set_config_value(home: Path, name: str, value: Any) -> None:
    """Write one setting into the workspace's config.toml, validating it first."""
    setting = BY_NAME.get(name)
    if setting is None or name == "home":
        raise ConfigError(f"unknown setting {name!r}", hint="see `keel config show`")
    coerced = coerce_setting(setting, value, "the command line")
    path = home / CONFIG_FILE
    data = read_config_file(path)
    data[name] = coerced
    tmp = path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    tmp.replace(path)
