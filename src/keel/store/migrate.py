"""Schema migrations with Alembic, loaded only when migrating.

The migration scripts ship inside the package (``keel/store/migrations``);
they spell each table out rather than importing the capabilities' models, so
this storage layer never imports upward.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keel.store.engine import Store

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(store: Store) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; returns (before, after)."""
    from alembic import command

    before = store.schema_revision()
    command.upgrade(_config(store), revision)
    store._schema_ok = False
    return before, store.schema_revision()


def head_revision() -> str | None:
    """The newest revision among the shipped scripts."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()
