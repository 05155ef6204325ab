"""The context every capability service is built with: settings, database, permissions.

One Context per workspace (local SDK) or per server process. The database is
opened on first use, so commands that never touch it never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from keel.auth.single_user import SingleUserAuthorizer
from keel.core.errors import WorkspaceNotFound
from keel.core.operations import Authorizer
from keel.core.settings import Settings
from keel.store.engine import Store, open_store

if TYPE_CHECKING:
    from keel.artifacts.store import ArtifactStore


@dataclass
class Context:
    """Shared state of the services of one Keel deployment."""

    settings: Settings
    authorizer: Authorizer = field(default_factory=SingleUserAuthorizer)

    @cached_property
    def store(self) -> Store:
        url = self.settings.db_url
        if not url:
            raise WorkspaceNotFound(
                "no Keel workspace here; run `keel init`",
                hint="or set KEEL_DB_URL, KEEL_HOME, or KEEL_SERVER_URL to use a server",
            )
        return open_store(url, busy_timeout_ms=self.settings.db_busy_timeout_ms)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        """The primary artifact store (``artifacts_url``: a folder or s3://...), opened on first use.

        The stat cache is per machine, so it lives in the workspace's ``cache/``
        folder (a local SQLite file), never in the shared metadata database.
        """
        from keel.artifacts.location import open_artifacts

        url = self.settings.artifacts_url
        if not url:
            raise WorkspaceNotFound(
                "no artifact store configured and no Keel workspace here; run `keel init`",
                hint="or set KEEL_ARTIFACTS_URL (a folder or s3://bucket/prefix)",
            )
        home = self.settings.home_path
        return open_artifacts(url, cache_dir=home / "cache" if home is not None else None)


class Service:
    """Base of every capability service: operations are its decorated methods."""

    #: Prefix of this service's operation names and its attribute on the SDK client.
    name = "service"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def store(self) -> Store:
        return self.ctx.store
