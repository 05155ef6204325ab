"""Schema migrations with Alembic, loaded only when migrating.

The migration scripts ship inside the package (``keel/store/migrations``);
they spell each table out rather than importing the capabilities' models, so
this storage layer never imports upward. Each capability keeps its own
branch rooted at the foundation's ``0001``; ``upgrade`` brings every branch to
its head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keel.store.engine import Store, describe_revisions

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(store: Store | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if store is not None:
        config.attributes["engine"] = store.engine
    return config


def upgrade(store: Store, revision: str = "heads") -> tuple[str, str]:
    """Bring every branch to ``revision``; returns the revisions before and after, as text."""
    from alembic import command

    before = store.schema_revisions()
    command.upgrade(_config(store), revision)
    store.forget_schema_check()
    return describe_revisions(before), describe_revisions(store.schema_revisions())


def upgrade_url(url: str, *, busy_timeout_ms: int = 30_000) -> tuple[str, str, str]:
    """Migrate the database at ``url``; returns (safe url, before, after)."""
    store = Store(url, busy_timeout_ms=busy_timeout_ms, check_schema=False)
    try:
        before, after = upgrade(store)
        return store.safe_url, before, after
    finally:
        store.dispose()


def head_revisions() -> frozenset[str]:
    """The newest revision of each branch among the shipped scripts."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(_config()).get_heads())
