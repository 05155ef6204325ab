"""Reading the audit log. Events are appended by the operations that change things; no
operation edits or deletes one."""

from __future__ import annotations

from sqlalchemy import select

from keel.access.common import project_id
from keel.access.schemas import AuditEvent
from keel.auth.durations import parse_duration
from keel.auth.models import AuditEventRow
from keel.context import Service
from keel.core.constraints import Duration, Limit, PageToken
from keel.core.operations import Action, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow


def _schema(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        project_id=row.project_id,
        address=row.address,
        details=dict(row.details or {}),
    )


class AuditService(Service):
    """The audit log: role changes, token issues and revokes, user changes, deletions, later promotions."""

    name = "audit"

    @operation("GET", "/api/v1/audit", action=Action.ADMIN, project=project_from("project"))
    def ls(
        self,
        project: str | None = None,
        since: Duration | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
    ) -> Page[AuditEvent]:
        """List audit events, newest first: one project's (its admins) or all (global admins).

        ``since`` is a duration back from now, such as ``7d``.
        """
        check_page_size(limit)
        query = select(AuditEventRow).order_by(AuditEventRow.id.desc()).limit(limit + 1)
        if since:
            query = query.where(AuditEventRow.at >= utcnow() - parse_duration(since, what="since"))
        if actor:
            query = query.where(AuditEventRow.actor == actor)
        if action:
            query = query.where(AuditEventRow.action == action)
        if page_token:
            before = token_position(page_token, "before", str)
            query = query.where(AuditEventRow.id < before)
        with self.store.read() as session:
            if project is not None:
                query = query.where(AuditEventRow.project_id == project_id(session, project))
            rows = list(session.execute(query).scalars())
        items = [_schema(r) for r in rows[:limit]]
        next_token = encode_token({"before": items[-1].id}) if len(rows) > limit else None
        return Page[AuditEvent](items=items, next_token=next_token)
