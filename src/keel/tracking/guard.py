"""Who may touch a run given by id: the check every run operation makes once the run is loaded.

A run's operations are addressed by id, so their project is known only after
the row is read. The check then goes by the project's *id*
(``Context.authorize_in_project``), never its name: an error must not tell a
caller with no role there what the project is called. A run the caller may
not see answers exactly like a run that does not exist (same class, message
and hint), so its existence does not leak either.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from keel.context import Service
from keel.core.errors import NotFound
from keel.core.operations import Action
from keel.tracking.models import RunRow
from keel.tracking.read import find_run, run_not_found


class RunGuard(Service):
    """Base of the runs service: loads a run and checks the caller against its project."""

    def _authorize(self, row: RunRow, action: Action) -> None:
        """PermissionDenied for a lesser role; for no role, the NotFound of an unknown run."""
        try:
            self.ctx.authorize_in_project(row.project_id, action, f"run {row.id}")
        except NotFound:
            raise run_not_found(row.id) from None

    def _run(self, session: Session, run_id: str, action: Action) -> RunRow:
        """The run (by id or unique id prefix), once the caller may ``action`` it.

        NotFound alike for unknown and hidden runs: a prefix is matched only
        among the runs of projects the caller can see. Callers use ``row.id``
        from here on, never the text they were given.
        """
        row = find_run(session, run_id, projects=self.ctx.visible_projects())
        self._authorize(row, action)
        return row
