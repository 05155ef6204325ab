"""The context every capability service is built with: settings, database, permissions.

One Context per workspace (local SDK) or per server process. The database is
opened on first use, so commands that never touch it never pay for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from keel.auth.single_user import SingleUserAuthorizer
from keel.core.errors import WorkspaceNotFound
from keel.core.operations import Action, Authorizer, current_caller
from keel.core.settings import Settings

if TYPE_CHECKING:
    from keel.artifacts.store import ArtifactStore
    from keel.store.engine import Store


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
        from keel.store.engine import open_store  # SQLAlchemy: only commands that touch the database

        return open_store(
            url,
            busy_timeout_ms=self.settings.db_busy_timeout_ms,
            synchronous=self.settings.values.get("db_synchronous"),
        )

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

    def visible_projects(self) -> frozenset[str] | None:
        """Ids of the projects the current caller may see; None means all (single-user mode, admins).

        Every listing or search filters by this, so callers see only their projects.
        """
        visible = getattr(self.authorizer, "visible_projects", None)
        if visible is None:
            return None
        ids: frozenset[str] | None = visible(current_caller())
        return ids

    def authorize_in_project(self, project_id: str, action: Action, label: str) -> None:
        """Check the current caller may ``action`` in the project with this id.

        For operations that find their project only inside (a run given by id):
        call it once the project id is known. ``label`` names the object
        (``"run 01J..."``); a caller with no role there gets NotFound("no <label>"),
        one with a lesser role PermissionDenied. Single-user mode allows everything.
        """
        check = getattr(self.authorizer, "authorize_project_id", None)
        if check is not None:
            check(current_caller(), action, project_id, label)

    def audit(
        self, session: Any, action: str, target: str, *, project_id: str | None = None, **details: Any
    ) -> None:
        """Append an audit event by the current caller: every deletion, promotion or override records one.

        Pass the session of the change (``with self.store.write() as session``) so
        the event commits with it or not at all; ``session=None`` appends it in a
        transaction of its own (for a change made outside the database, such as
        gc). ``action`` is ``<noun>.<verb>`` (``run.delete``), ``target`` a typed
        reference (``run:<id>``), ``project_id`` the project's id where there is one,
        ``details`` JSON-ready facts (a name, a count). Events are never edited.
        """
        from keel.auth.audit import record_current

        if session is None:
            with self.store.write() as own:
                record_current(own, action, target, project_id=project_id, **details)
        else:
            record_current(session, action, target, project_id=project_id, **details)

    def project_created(self, session: Any, project_id: str, name: str) -> None:
        """Tell the authorizer a project was created in ``session`` (its creator becomes its admin)."""
        hook = getattr(self.authorizer, "project_created", None)
        if hook is not None:
            hook(session, current_caller(), project_id, name)


class Service:
    """Base of every capability service: operations are its decorated methods."""

    #: Prefix of this service's operation names and its attribute on the SDK client.
    name = "service"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @property
    def store(self) -> Store:
        return self.ctx.store
