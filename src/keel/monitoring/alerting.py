"""Alert operations (rules over monitor figures, events) and applying the rules after each evaluation.

Kept beside :mod:`keel.monitoring.alerts` (the event logic and the sinks):
this module is the operations users call and the glue the monitor service
runs once an evaluation is stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field
from sqlalchemy import select

from keel.context import Service
from keel.core.constraints import AlertSink
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.timeutil import utcnow
from keel.monitoring.alerts import Delivery, apply_rules, deliver
from keel.monitoring.evaluate import figure_names
from keel.monitoring.models import AlertEventRow, AlertRuleRow, MonitorRow
from keel.monitoring.rules import check_sink, parse_rule
from keel.monitoring.schemas import AlertEvent, AlertRule, Monitor, MonitorReport
from keel.projects.service import find_project

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_MONITOR = "/api/v1/projects/{project}/monitors/{monitor}"


def _rule(row: AlertRuleRow, project: str, monitor: str, *, secret: bool = False) -> AlertRule:
    return AlertRule(
        id=row.id,
        project=project,
        monitor=monitor,
        expression=row.expression,
        sink=row.sink,
        cooldown_s=row.cooldown_s,
        secret=row.secret if secret else None,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _event(row: AlertEventRow, project: str, monitor: str) -> AlertEvent:
    return AlertEvent(
        id=row.id,
        project=project,
        monitor=monitor,
        rule=row.rule_id,
        evaluation=row.evaluation_id,
        expression=row.expression,
        value=row.value,
        state="resolved" if row.state == "resolved" else "firing",
        repeats=row.repeats,
        delivery=row.delivery,
        delivery_detail=row.delivery_detail,
        fired_at=row.fired_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
    )


def events_of_evaluation(
    session: Session, evaluation_id: str, project: str, monitor: str
) -> list[AlertEvent]:
    """The alert events an evaluation fired or kept firing."""
    rows = session.execute(
        select(AlertEventRow).where(AlertEventRow.evaluation_id == evaluation_id).order_by(AlertEventRow.id)
    ).scalars()
    return [_event(r, project, monitor) for r in rows]


def _monitor_row(session: Session, project_id: str, project: str, name: str) -> MonitorRow:
    row = session.execute(
        select(MonitorRow).where(MonitorRow.project_id == project_id, MonitorRow.name == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no monitor {name!r} in project {project!r}", hint="`keel monitor ls` lists them")
    return row


def run_rules(service: Service, project: str, monitor: Monitor, report: MonitorReport) -> list[AlertEvent]:
    """Apply the monitor's rules to a stored evaluation, then deliver new events (outside the transaction)."""
    with service.store.write() as session:
        project_id = find_project(session, project).id
        deliveries = apply_rules(
            session,
            monitor_id=monitor.id,
            monitor_name=monitor.name,
            project=project,
            project_id=project_id,
            evaluation_id=report.id,
            figures=report.figures,
            known=figure_names(monitor),
            now=report.created_at,
        )
    retrain = _retrainer(service, project, monitor.deployment) if monitor.deployment else None
    for delivery in deliveries:
        state, detail = deliver(delivery, retrain=retrain)
        with service.store.write() as session:
            row = session.get(AlertEventRow, delivery.event_id)
            assert row is not None
            row.delivery, row.delivery_detail = state, detail
    with service.store.read() as session:
        return events_of_evaluation(session, report.id, project, monitor.name)


def _retrainer(service: Service, project: str, deployment: str) -> Callable[[Delivery], tuple[str, str]]:
    """The ``retrain`` sink: fire the project's triggers on ``drift:<deployment>`` (pipelines queues a run)."""

    def fire(delivery: Delivery) -> tuple[str, str]:
        from keel.pipelines.service import PipelineService

        payload = delivery.payload
        results = PipelineService(service.ctx).trigger(
            project,
            event=f"drift:{deployment}",
            reason=f"monitor {payload['monitor']}: {payload['expression']} (value {payload['value']:g})",
            dedup_key=f"alert:{delivery.event_id}",
        )
        if not results:
            return "failed", f"no retraining trigger on drift:{deployment} (keel pipeline trigger add)"
        fired = [r for r in results if r.fired and r.firing is not None]
        if not fired:
            return "failed", "; ".join(f"trigger {r.trigger_id}: {r.why_not}" for r in results)[:1000]
        queued = ", ".join(f"firing {r.firing.id} of trigger {r.trigger_id}" for r in fired if r.firing)
        return "delivered", f"queued {queued}"[:1000]

    return fire


class AlertOperations(Service):
    """Alert rules over a monitor's figures, and the events they raised."""

    @operation(
        "POST", _MONITOR + "/rules", action=Action.WRITE, project=project_from("project"), status_code=201
    )
    def add_rule(
        self,
        project: str,
        monitor: str,
        expression: Annotated[str, Field(min_length=1, max_length=300)],
        sink: AlertSink = "log",
        cooldown_s: Annotated[int, Field(ge=0, le=30 * 86400)] = 3600,
    ) -> AlertRule:
        """Add a rule (``drift.share > 0.3``) delivering to ``log``, ``webhook:<url>`` or ``retrain``.

        The answer carries the webhook signing secret, shown this once.
        Raises InvalidInput for a syntax error, a figure the monitor does not
        make, or an unknown sink.
        """
        from keel.monitoring.service import monitor_schema

        sink = check_sink(sink)
        with self.store.write() as session:
            project_id = find_project(session, project).id
            row = _monitor_row(session, project_id, project, monitor)
            rule = parse_rule(expression, figure_names(monitor_schema(row, project)))
            if sink == "retrain" and row.deployment is None:
                raise InvalidInput(
                    f"monitor {monitor!r} watches no deployment; a retrain sink fires the triggers on "
                    "drift:<deployment>"
                )
            added = AlertRuleRow(
                id=new_id(),
                monitor_id=row.id,
                project_id=project_id,
                expression=str(rule),
                sink=sink,
                cooldown_s=cooldown_s,
                secret=secrets.token_hex(32),
                created_by=current_caller().name,
                created_at=utcnow(),
            )
            session.add(added)
            return _rule(added, project, monitor, secret=True)

    @operation("GET", _MONITOR + "/rules", action=Action.READ, project=project_from("project"))
    def rules(self, project: str, monitor: str) -> list[AlertRule]:
        """A monitor's alert rules (without their secrets)."""
        with self.store.read() as session:
            row = _monitor_row(session, find_project(session, project).id, project, monitor)
            found = session.execute(
                select(AlertRuleRow).where(AlertRuleRow.monitor_id == row.id).order_by(AlertRuleRow.id)
            ).scalars()
            return [_rule(r, project, monitor) for r in found]

    @operation("DELETE", _MONITOR + "/rules/{rule}", action=Action.WRITE, project=project_from("project"))
    def delete_rule(self, project: str, monitor: str, rule: str) -> AlertRule:
        """Remove one rule; the events it raised stay."""
        with self.store.write() as session:
            row = _monitor_row(session, find_project(session, project).id, project, monitor)
            found = session.get(AlertRuleRow, rule)
            if found is None or found.monitor_id != row.id:
                raise NotFound(f"monitor {monitor!r} has no rule {rule}")
            gone = _rule(found, project, monitor)
            session.delete(found)
            return gone

    @operation(
        "GET", "/api/v1/projects/{project}/alerts", action=Action.READ, project=project_from("project")
    )
    def alerts(
        self,
        project: str,
        monitor: str | None = None,
        state: Literal["firing", "resolved"] | None = None,
        limit: Annotated[int, Field(ge=1, le=1000)] = 100,
    ) -> list[AlertEvent]:
        """The project's alert events, newest first (of one monitor, or in one state, when asked)."""
        with self.store.read() as session:
            project_id = find_project(session, project).id
            names = {
                row.id: row.name
                for row in session.execute(
                    select(MonitorRow.id, MonitorRow.name).where(MonitorRow.project_id == project_id)
                )
            }
            query = select(AlertEventRow).where(AlertEventRow.project_id == project_id)
            if monitor is not None:
                query = query.where(
                    AlertEventRow.monitor_id == _monitor_row(session, project_id, project, monitor).id
                )
            if state is not None:
                query = query.where(AlertEventRow.state == state)
            rows = session.execute(query.order_by(AlertEventRow.id.desc()).limit(limit)).scalars()
            return [_event(r, project, names.get(r.monitor_id, "(deleted)")) for r in rows]
