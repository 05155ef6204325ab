"""Appending to the audit log. There is deliberately no function that edits or deletes an event.

Capabilities record their own events (a deletion, a promotion) through
``Context.audit``, which calls :func:`record_current`; actions are named
``<noun>.<verb>`` (``role.grant``, ``token.revoke``, ``run.delete``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from keel.auth.models import AuditEventRow
from keel.core.ids import new_id
from keel.core.operations import Caller, current_caller
from keel.core.timeutil import utcnow


def record(
    session: Session,
    caller: Caller,
    action: str,
    target: str,
    *,
    project_id: str | None = None,
    **details: Any,
) -> AuditEventRow:
    """Append one event in the caller's transaction, so it commits with the change it records."""
    row = AuditEventRow(
        id=new_id(),
        at=utcnow(),
        actor=caller.name,
        action=action,
        target=target,
        project_id=project_id,
        address=caller.address,
        details=details,
    )
    session.add(row)
    return row


def record_current(
    session: Session, action: str, target: str, *, project_id: str | None = None, **details: Any
) -> AuditEventRow:
    """Append one event by the caller of the operation running now (its name and address)."""
    return record(session, current_caller(), action, target, project_id=project_id, **details)
