"""Triggers: a pipeline registered as a project's retraining target, started by an event.

The API (monitoring calls ``trigger`` when a drift alert fires)::

    client.pipelines.add_trigger(project="churn", target="/abs/path/churn.py:churn",
                                 event="drift:churn-prod", params={"lr": 0.1}, cooldown_s=3600)
    client.pipelines.trigger(project="churn", event="drift:churn-prod",
                             reason="PSI 0.31 on monthly_charges", dedup_key="alert:01J...")
        # -> list[FireResult], one per enabled trigger of the project on that event
    PipelineService(ctx).trigger(...)          # the same call in-process (monitoring sits above pipelines)
    POST /api/v1/projects/{project}/pipeline-triggers/fire   {"event", "reason", "dedup_key"}
    keel pipeline trigger add|ls|rm|fire|firings

Events: ``data:<dataset>`` (a new version of that dataset; the worker polls),
``schedule:<cron>`` (five fields, UTC; the worker), ``drift:<deployment>``
(whoever watches the deployment calls ``trigger``), ``manual`` (only
``trigger(..., trigger_id=...)``). Adding a trigger on a dataset or
deployment that does not exist is refused.

Deduplication: one firing per (trigger, ``dedup_key``); the key defaults to
the event and the UTC minute. Cooldown: an event within ``cooldown_s`` of
the trigger's last firing queues nothing (``FireResult.why_not`` says so); a
firing by ``trigger_id`` (manual) skips the cooldown. Firings queue; the one
worker in each ``keel server`` (:mod:`keel.pipelines.worker`) claims each
under a lease, so with several replicas on one database at most one runs it,
and runs the pipeline as caller ``trigger:<id>`` with the rights of the
admin who added the trigger, so its actions are audited under that name.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.context import Service
from keel.core.constraints import Cooldown, DedupKey, Limit, PipelineTarget, TriggerEvent
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.timeutil import utcnow
from keel.pipelines.cron import parse_schedule
from keel.pipelines.models import FiringRow, TriggerRow
from keel.pipelines.schemas import FireResult, Firing, Trigger
from keel.pipelines.worker import WAKE
from keel.projects.models import ProjectRow
from keel.projects.service import find_project

_BASE = "/api/v1/projects/{project}/pipeline-triggers"
_EVENT = re.compile(r"^(data|drift):[A-Za-z0-9_.\-/]{1,200}$|^schedule:.{1,200}$|^manual$")
_TARGET = re.compile(r"^.+:[A-Za-z_][A-Za-z0-9_]*$")
#: The longest cooldown (a week) and how long a claimed firing is another worker's before it may be retried.
MAX_COOLDOWN_S = 7 * 24 * 3600
DEFAULT_LEASE_S = 6 * 3600


def _trigger(row: TriggerRow, project: str) -> Trigger:
    return Trigger(
        id=row.id,
        project=project,
        target=row.target,
        event=row.event,
        params=dict(row.params),
        cooldown_s=row.cooldown_s,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def firing_schema(row: FiringRow, project: str) -> Firing:
    return Firing(
        id=row.id,
        trigger_id=row.trigger_id,
        project=project,
        event=row.event,
        reason=row.reason,
        dedup_key=row.dedup_key,
        status=row.status,
        claimed_by=row.claimed_by,
        pipeline_run_id=row.pipeline_run_id,
        error=row.error,
        created_at=row.created_at,
        ended_at=row.ended_at,
    )


class TriggerOperations(Service):
    """The trigger half of the pipelines service: add, list, remove, fire; and the worker's queue."""

    def _check_event(self, project: str, event: str) -> str | None:
        """Refuse an event on something that does not exist; a data event's current version id."""
        if not _EVENT.match(event):
            raise InvalidInput(
                f"event {event!r}: write data:DATASET, schedule:'CRON', drift:DEPLOYMENT or manual"
            )
        kind, _, what = event.partition(":")
        if kind == "schedule":
            parse_schedule(what)
        elif kind == "data":
            from keel.datasets.service import DataService

            try:
                return DataService(self.ctx).version(project, what, "latest").id
            except NotFound as exc:
                raise NotFound(f"event {event!r}: {exc.message}") from None
        elif kind == "drift":
            from keel.registry.deployments import DeploymentService

            try:
                DeploymentService(self.ctx).get(project, what)
            except NotFound as exc:
                raise NotFound(f"event {event!r}: {exc.message}") from None
        return None

    @operation("POST", _BASE, action=Action.ADMIN, project=project_from("project"), status_code=201)
    def add_trigger(
        self,
        project: str,
        target: PipelineTarget,
        event: TriggerEvent,
        params: dict[str, Any] | None = None,
        cooldown_s: Cooldown = 3600,
    ) -> Trigger:
        """Register pipeline ``target`` (``/path/file.py:NAME`` or ``module:NAME``) to run on ``event``.

        A project admin adds it; its runs act with that admin's rights, as
        ``trigger:<id>``. Raises InvalidInput for a malformed target, event or
        cooldown, NotFound for an event on an unknown dataset or deployment.
        """
        if not _TARGET.match(target):
            raise InvalidInput(f"target {target!r}: write /path/to/file.py:NAME or module:NAME")
        if not 0 <= cooldown_s <= MAX_COOLDOWN_S:
            raise InvalidInput(f"cooldown_s must be between 0 and {MAX_COOLDOWN_S}, not {cooldown_s}")
        state = self._check_event(project, event)
        caller = current_caller()
        with self.store.write() as session:
            project_row = find_project(session, project)
            now = utcnow()
            row = TriggerRow(
                id=new_id(),
                project_id=project_row.id,
                target=target,
                event=event,
                params=dict(params or {}),
                cooldown_s=cooldown_s,
                state=state
                if state is not None
                else (now.isoformat() if event.startswith("schedule:") else None),
                enabled=True,
                created_by=caller.name,
                created_by_id=caller.user_id,
                created_by_admin=caller.is_admin,
                created_at=now,
            )
            session.add(row)
            self.ctx.audit(
                session,
                "pipeline.trigger.add",
                f"trigger:{row.id}",
                project_id=project_row.id,
                event=event,
                pipeline=target,
            )
            session.flush()
            return _trigger(row, project_row.name)

    @operation("GET", _BASE, action=Action.READ, project=project_from("project"))
    def triggers(self, project: str) -> list[Trigger]:
        """The project's triggers, oldest first."""
        with self.store.read() as session:
            project_row = find_project(session, project)
            rows = session.execute(
                select(TriggerRow).where(TriggerRow.project_id == project_row.id).order_by(TriggerRow.id)
            ).scalars()
            return [_trigger(r, project_row.name) for r in rows]

    def _find_trigger(self, session: Session, project_id: str, trigger_id: str) -> TriggerRow:
        row = session.get(TriggerRow, trigger_id)
        if row is None or row.project_id != project_id:
            raise NotFound(f"no trigger {trigger_id!r} in this project", hint="`keel pipeline trigger ls`")
        return row

    @operation("DELETE", _BASE + "/{trigger_id}", action=Action.ADMIN, project=project_from("project"))
    def remove_trigger(self, project: str, trigger_id: str) -> Trigger:
        """Remove a trigger and its firings' records."""
        with self.store.write() as session:
            project_row = find_project(session, project)
            row = self._find_trigger(session, project_row.id, trigger_id)
            gone = _trigger(row, project_row.name)
            session.execute(delete(FiringRow).where(FiringRow.trigger_id == row.id))
            session.delete(row)
            self.ctx.audit(session, "pipeline.trigger.remove", f"trigger:{row.id}", project_id=project_row.id)
            return gone

    @operation("POST", _BASE + "/fire", action=Action.WRITE, project=project_from("project"))
    def trigger(
        self,
        project: str,
        event: TriggerEvent | None = None,
        reason: str = "",
        dedup_key: DedupKey | None = None,
        trigger_id: str | None = None,
    ) -> list[FireResult]:
        """Queue a firing of each enabled trigger of the project on ``event`` (or of ``trigger_id`` alone).

        Nothing matching is an empty list, not an error (a deployment need not
        have a retraining target). Raises InvalidInput when neither or both of
        ``event`` and ``trigger_id`` are given, or the event is malformed.
        """
        if (event is None) == (trigger_id is None):
            raise InvalidInput("give an event (drift:DEPLOYMENT, data:DATASET) or a trigger_id, not both")
        if event is not None and not _EVENT.match(event):
            raise InvalidInput(
                f"event {event!r}: write data:DATASET, schedule:'CRON', drift:DEPLOYMENT or manual"
            )
        if dedup_key is not None and not 1 <= len(dedup_key) <= 200:
            raise InvalidInput("dedup_key must be 1 to 200 characters")
        with self.store.write() as session:
            project_row = find_project(session, project)
            if trigger_id is not None:
                rows = [self._find_trigger(session, project_row.id, trigger_id)]
            else:
                query = select(TriggerRow).where(
                    TriggerRow.project_id == project_row.id, TriggerRow.event == event, TriggerRow.enabled
                )
                rows = list(session.execute(query.order_by(TriggerRow.id)).scalars())
        now = utcnow()
        key = dedup_key or f"{event or 'manual'}@{now:%Y-%m-%dT%H:%M}"
        return [
            self.enqueue(
                row, project_row.name, event or row.event, reason, key, now, cooldown=trigger_id is None
            )
            for row in rows
        ]

    def enqueue(
        self,
        row: TriggerRow,
        project: str,
        event: str,
        reason: str,
        key: str,
        now: datetime,
        *,
        cooldown: bool,
    ) -> FireResult:
        """Queue one firing unless it is a duplicate or inside the trigger's cooldown (one transaction)."""
        try:
            with self.store.write() as session:
                duplicate = session.execute(
                    select(FiringRow.id).where(FiringRow.trigger_id == row.id, FiringRow.dedup_key == key)
                ).first()
                if duplicate is not None:
                    return FireResult(trigger_id=row.id, fired=False, why_not=f"already fired for {key!r}")
                if cooldown and row.cooldown_s > 0:
                    last = session.execute(
                        select(FiringRow.created_at)
                        .where(FiringRow.trigger_id == row.id)
                        .order_by(FiringRow.created_at.desc())
                        .limit(1)
                    ).scalar_one_or_none()
                    if last is not None and now - last < timedelta(seconds=row.cooldown_s):
                        until = last + timedelta(seconds=row.cooldown_s)
                        return FireResult(
                            trigger_id=row.id, fired=False, why_not=f"cooling down until {until.isoformat()}"
                        )
                firing = FiringRow(
                    id=new_id(),
                    trigger_id=row.id,
                    project_id=row.project_id,
                    event=event,
                    reason=reason,
                    dedup_key=key,
                    status="PENDING",
                    claimed_by=None,
                    lease_until=None,
                    pipeline_run_id=None,
                    error=None,
                    created_at=now,
                    ended_at=None,
                )
                session.add(firing)
                session.flush()
                result = FireResult(trigger_id=row.id, fired=True, firing=firing_schema(firing, project))
            WAKE.set()  # committed: this process's worker may start it now
            return result
        except IntegrityError:  # another replica queued the same key between our check and insert
            return FireResult(trigger_id=row.id, fired=False, why_not=f"already fired for {key!r}")

    @operation(
        "GET",
        "/api/v1/projects/{project}/pipeline-firings",
        action=Action.READ,
        project=project_from("project"),
    )
    def firings(self, project: str, trigger_id: str | None = None, limit: Limit = 50) -> list[Firing]:
        """The project's firings, newest first: why each fired, its state, the pipeline run it started."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000")
        with self.store.read() as session:
            project_row = find_project(session, project)
            query = select(FiringRow).where(FiringRow.project_id == project_row.id)
            if trigger_id is not None:
                query = query.where(FiringRow.trigger_id == trigger_id)
            rows = session.execute(query.order_by(FiringRow.id.desc()).limit(limit)).scalars()
            return [firing_schema(r, project_row.name) for r in rows]

    # -- the worker's side (in-process only; no routes) ---------------------------------------------
    def claim(self, worker: str, lease_s: int = DEFAULT_LEASE_S) -> tuple[Firing, Trigger] | None:
        """Claim the oldest firing that is queued (or whose claimer's lease ran out), or None.

        The claim is a conditional UPDATE, so of several workers on one
        database exactly one wins each firing.
        """
        now = utcnow()
        free = or_(
            FiringRow.status == "PENDING", and_(FiringRow.status == "CLAIMED", FiringRow.lease_until < now)
        )
        with self.store.write() as session:
            candidates = (
                session.execute(select(FiringRow.id).where(free).order_by(FiringRow.id).limit(5))
                .scalars()
                .all()
            )
            for firing_id in candidates:
                won = session.execute(
                    update(FiringRow)
                    .where(FiringRow.id == firing_id, free)
                    .values(status="CLAIMED", claimed_by=worker, lease_until=now + timedelta(seconds=lease_s))
                    .execution_options(synchronize_session=False)
                )
                if won.rowcount == 1:
                    row = session.get(FiringRow, firing_id)
                    assert row is not None
                    session.refresh(row)
                    trigger = session.get(TriggerRow, row.trigger_id)
                    project = session.get(ProjectRow, row.project_id)
                    assert trigger is not None and project is not None
                    return firing_schema(row, project.name), _trigger(trigger, project.name)
        return None

    def acting_as(self, trigger_id: str) -> tuple[str | None, bool]:
        """The user id and admin flag of the admin who added the trigger (the rights its runs act with)."""
        with self.store.read() as session:
            row = session.get(TriggerRow, trigger_id)
            if row is None:
                raise NotFound(f"no trigger {trigger_id!r}")
            return row.created_by_id, row.created_by_admin

    def finish_firing(
        self, firing_id: str, worker: str, status: str, pipeline_run_id: str | None, error: str | None
    ) -> None:
        """Record how a claimed firing ended (only its claimer may)."""
        with self.store.write() as session:
            row = session.get(FiringRow, firing_id)
            if row is None or row.claimed_by != worker:
                return
            row.status, row.pipeline_run_id, row.error, row.ended_at = (
                status,
                pipeline_run_id,
                error,
                utcnow(),
            )

    def poll_events(self, now: datetime | None = None) -> list[FireResult]:
        """Queue the firings that schedules and new data versions call for since the last poll."""
        from keel.datasets.service import DataService

        now = now or utcnow()
        results: list[FireResult] = []
        with self.store.read() as session:
            rows = list(
                session.execute(
                    select(TriggerRow, ProjectRow.name)
                    .join(ProjectRow, ProjectRow.id == TriggerRow.project_id)
                    .where(
                        TriggerRow.enabled,
                        or_(TriggerRow.event.startswith("schedule:"), TriggerRow.event.startswith("data:")),
                    )
                ).all()
            )
        for row, project in rows:
            kind, _, what = row.event.partition(":")
            seen = row.state
            if kind == "schedule":
                last = datetime.fromisoformat(seen) if seen else row.created_at
                due = parse_schedule(what).last_due(last, now)
                if due is not None:
                    results.append(
                        self.enqueue(
                            row,
                            project,
                            row.event,
                            f"schedule {what}",
                            f"schedule@{due:%Y-%m-%dT%H:%M}",
                            now,
                            cooldown=True,
                        )
                    )
                new_state: str | None = now.isoformat()
            else:
                try:
                    latest = DataService(self.ctx).version(project, what, "latest")
                except NotFound:
                    continue
                if latest.id != seen:
                    results.append(
                        self.enqueue(
                            row,
                            project,
                            row.event,
                            f"new version {latest.address}",
                            f"data@{latest.id}",
                            now,
                            cooldown=True,
                        )
                    )
                new_state = latest.id
            if new_state != seen:
                with self.store.write() as session:
                    session.execute(update(TriggerRow).where(TriggerRow.id == row.id).values(state=new_state))
        return results
