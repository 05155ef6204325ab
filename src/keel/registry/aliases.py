"""Alias operations: set, promote through the KPI gate, roll back; each move is kept and audited.

An alias moves in one transaction with its move record and audit event, so
a deployment following it sees the old holder or the new one, never a gap.
Rollback replays the alias's moves as a stack (a set or promote pushes, a
rollback pops) and returns to the holder before the current one.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.context import Service
from keel.core.constraints import AliasName
from keel.core.errors import CheckFailed, Conflict, InvalidInput
from keel.core.ids import new_id
from keel.core.kpi import KPI
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.timeutil import utcnow
from keel.projects.service import find_project
from keel.registry.gate import evaluate_gate
from keel.registry.lookup import find_model, find_version, version_schema
from keel.registry.models import AliasMoveRow, ModelAliasRow, ModelRow, ModelVersionRow
from keel.registry.policy import policy_of
from keel.registry.schemas import ModelVersion, Promotion, check_alias

BASE = "/api/v1/projects/{project}/models"


def move_alias(
    session: Session, model: ModelRow, alias: str, version: ModelVersionRow, action: str
) -> str | None:
    """Point ``alias`` at ``version`` and record the move; returns the previous holder's id."""
    row = session.execute(
        select(ModelAliasRow).where(ModelAliasRow.model_id == model.id, ModelAliasRow.alias == alias)
    ).scalar_one_or_none()
    previous = row.version_id if row is not None else None
    now, who = utcnow(), current_caller().name
    if row is None:
        session.add(
            ModelAliasRow(
                id=new_id(),
                model_id=model.id,
                alias=alias,
                version_id=version.id,
                updated_by=who,
                updated_at=now,
            )
        )
    else:
        row.version_id, row.updated_by, row.updated_at = version.id, who, now
    session.add(
        AliasMoveRow(
            id=new_id(),
            model_id=model.id,
            alias=alias,
            version_id=version.id,
            previous_version_id=previous,
            action=action,
            moved_by=who,
            moved_at=now,
        )
    )
    model.updated_at = now
    return previous


def rollback_target(session: Session, model_id: str, alias: str) -> str | None:
    """The version id the alias held before its current holder (moves replayed as a stack)."""
    moves = session.execute(
        select(AliasMoveRow)
        .where(AliasMoveRow.model_id == model_id, AliasMoveRow.alias == alias)
        .order_by(AliasMoveRow.moved_at, AliasMoveRow.id)
    ).scalars()
    stack: list[str] = []
    for move in moves:
        if move.action == "rollback":
            if stack:
                stack.pop()
        else:
            if not stack and move.previous_version_id is not None:
                stack.append(move.previous_version_id)
            stack.append(move.version_id)
    return stack[-2] if len(stack) >= 2 else None


class AliasOperations(Service):
    """The alias half of the registry: set, promote, rollback."""

    def _protect(self, session: Session, project_id: str, project: str, alias: str, label: str) -> None:
        """A protected alias (the project's policy) moves only by a project admin."""
        if alias in policy_of(session, project_id, project).protected_aliases:
            self.ctx.authorize_in_project(project_id, Action.ADMIN, label)

    @operation("PUT", BASE + "/{name}/aliases/{alias}", action=Action.WRITE, project=project_from("project"))
    def set_alias(self, project: str, name: str, alias: AliasName, version: int) -> ModelVersion:
        """Point ``alias`` at version ``version`` of model ``name``; a protected alias needs ``promote``."""
        check_alias(alias)
        with self.store.write() as session:
            project_row = find_project(session, project)
            if alias in policy_of(session, project_row.id, project).protected_aliases:
                raise InvalidInput(
                    f"alias {alias!r} is protected in project {project!r}: move it with "
                    f"`keel model promote {name}@{version} --to {alias}`"
                )
            model, row = find_version(session, project_row.id, project, f"{name}@{version}")
            if row.status != "active":
                raise Conflict(f"{name}@{version} is {row.status}; restore it before giving it an alias")
            previous = move_alias(session, model, alias, row, "set")
            self.ctx.audit(
                session,
                "model.alias",
                f"model_version:{row.id}",
                project_id=project_row.id,
                model=name,
                alias=alias,
                version=row.number,
                previous=previous,
            )
            return version_schema(session, model, row, project)

    @operation("POST", BASE + "/promotions", action=Action.WRITE, project=project_from("project"))
    def promote(
        self,
        project: str,
        ref: str,
        to: AliasName,
        model: str | None = None,
        force: bool = False,
        reason: str | None = None,
    ) -> Promotion:
        """Move alias ``to`` onto version ``ref`` if the project's offline KPIs are met by its metrics.

        A failing gate raises CheckFailed with the KPI report; a project admin
        may pass ``force`` with a ``reason`` (an audited override). ``model``,
        when given, must be the model ``ref`` belongs to.
        """
        check_alias(to)
        if force and not (reason or "").strip():
            raise InvalidInput("an override (force) needs a reason")
        with self.store.read() as session:
            project_row = find_project(session, project)
            kpis = [KPI.model_validate(k) for k in project_row.kpis]
            model_row, row = find_version(session, project_row.id, project, ref)
            if model is not None and model_row.name != model:
                raise InvalidInput(f"{ref} is a version of model {model_row.name!r}, not of {model!r}")
            version = version_schema(session, model_row, row, project)
            label = f"model {model_row.name!r}"
            self._protect(session, project_row.id, project, to, label)
        if force:
            self.ctx.authorize_in_project(project_row.id, Action.ADMIN, label)
        if version.status != "active":
            raise Conflict(f"{model_row.name}@{version.number} is {version.status}; it cannot be promoted")
        gate = evaluate_gate(self.ctx, version, kpis)
        if not gate.passed and not force:
            raise CheckFailed(
                f"{model_row.name}@{version.number} does not pass the promotion gate to {to!r}: "
                f"KPIs {gate.kpi_report.summary()} (metrics from {gate.metrics_source})"
                + (f"; validation: {gate.validation}" if gate.validation else ""),
                hint="improve the model, or a project admin may override with --force --reason",
            )
        with self.store.write() as session:
            model_row = find_model(session, project_row.id, project, model_row.name)
            row_now = session.get(ModelVersionRow, version.id)
            if row_now is None or row_now.status != "active":
                raise Conflict(
                    f"{model_row.name}@{version.number} changed while it was being promoted; try again"
                )
            previous = move_alias(session, model_row, to, row_now, "promote")
            target = f"model_version:{version.id}"
            details = {
                "model": model_row.name,
                "alias": to,
                "version": version.number,
                "kpis": gate.kpi_report.summary(),
            }
            self.ctx.audit(
                session, "model.promote", target, project_id=project_row.id, previous=previous, **details
            )
            if not gate.passed:
                self.ctx.audit(
                    session, "model.override", target, project_id=project_row.id, reason=reason, **details
                )
            prev_row = session.get(ModelVersionRow, previous) if previous else None
            previous_number = prev_row.number if prev_row is not None else None
            result = version_schema(session, model_row, row_now, project)
        return Promotion(
            alias=to,
            version=result,
            previous_version=previous_number,
            gate=gate,
            forced=force and not gate.passed,
            reason=reason,
        )

    @operation(
        "POST",
        BASE + "/{name}/aliases/{alias}/rollback",
        action=Action.WRITE,
        project=project_from("project"),
    )
    def rollback(self, project: str, name: str, alias: AliasName) -> ModelVersion:
        """Move ``alias`` back to the version that held it before the current one."""
        check_alias(alias)
        with self.store.write() as session:
            project_row = find_project(session, project)
            self._protect(session, project_row.id, project, alias, f"model {name!r}")
            model = find_model(session, project_row.id, project, name)
            target_id = rollback_target(session, model.id, alias)
            if target_id is None:
                raise Conflict(f"alias {name}@{alias} has no previous holder to roll back to")
            target = session.get(ModelVersionRow, target_id)
            if target is None or target.status != "active":
                raise Conflict(
                    f"the previous holder of {name}@{alias} is deleted or archived; set the alias instead"
                )
            previous = move_alias(session, model, alias, target, "rollback")
            self.ctx.audit(
                session,
                "model.rollback",
                f"model_version:{target.id}",
                project_id=project_row.id,
                model=name,
                alias=alias,
                version=target.number,
                previous=previous,
            )
            return version_schema(session, model, target, project)
