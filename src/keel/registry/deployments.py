"""Deployment operations: create, list, show, change and remove the endpoints ``keel serve`` runs.

A deployment is a row of the registry: it names one registered model and
the alias (or version) it follows, so promoting a version is what changes
what a deployment serves. Every create, change and removal is an audit event
in the same transaction. ``locate`` is the serving side's lookup by name
alone (serving tokens name a deployment, not a project); it is not an
operation, so it checks nothing: the model server authorizes each request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.context import Context, Service
from keel.core.constraints import Percent
from keel.core.errors import AlreadyExists, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.timeutil import utcnow
from keel.projects.models import ProjectRow
from keel.projects.service import find_project
from keel.registry.deployment_models import DeploymentRow
from keel.registry.deployment_schemas import Deployment, DeploymentName, check_percent, split_canary
from keel.registry.lookup import find_model, find_version, split_ref
from keel.registry.models import ModelVersionRow

BASE = "/api/v1/projects/{project}/deployments"


def _version(session: Session, row: DeploymentRow, project: str, which: str | None) -> int | None:
    """The version number ``model@which`` names now; None when the alias holds nothing."""
    if which is None:
        return None
    project_row = session.get(ProjectRow, row.project_id)
    assert project_row is not None
    try:
        return find_version(session, project_row.id, project, f"{row.model}@{which}")[1].number
    except NotFound:
        return None


def deployment_schema(session: Session, row: DeploymentRow, project: str) -> Deployment:
    """The row as the operations return it, with each reference resolved to a version number now."""
    return Deployment(
        id=row.id,
        project=project,
        name=row.name,
        model=row.model,
        target=row.target,
        version=_version(session, row, project, row.target),
        canary=row.canary,
        canary_percent=row.canary_percent,
        canary_version=_version(session, row, project, row.canary),
        shadow=row.shadow,
        shadow_version=_version(session, row, project, row.shadow),
        allow_unsafe_pickle=row.allow_unsafe_pickle,
        settings=dict(row.settings),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def locate(ctx: Context, name: str) -> tuple[Deployment, dict[str, ModelVersionRow | None]]:
    """Deployment ``name`` (any project) and the version row each of its references holds now.

    The dict maps ``"target"``, ``"canary"`` and ``"shadow"`` to a version
    row (detached, read-only) or None. NotFound for an unknown name.
    """
    with ctx.store.read() as session:
        row = session.execute(select(DeploymentRow).where(DeploymentRow.name == name)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"no deployment named {name!r}", hint="`keel deploy ls` lists them")
        project_row = session.get(ProjectRow, row.project_id)
        assert project_row is not None
        held: dict[str, ModelVersionRow | None] = {}
        for key, which in (("target", row.target), ("canary", row.canary), ("shadow", row.shadow)):
            try:
                held[key] = (
                    find_version(session, project_row.id, project_row.name, f"{row.model}@{which}")[1]
                    if which is not None
                    else None
                )
            except NotFound:
                held[key] = None
            if held[key] is not None:
                session.expunge(held[key])
        return deployment_schema(session, row, project_row.name), held


def deployment_exists(session: Session, name: str) -> bool:
    """Whether a deployment named ``name`` exists (any project).

    ``keel.access`` asks it, through the ``keel.deployment_lookup`` entry point,
    before issuing a predict token for ``name``: access sits below the registry
    and cannot import it.
    """
    found = session.execute(select(DeploymentRow.id).where(DeploymentRow.name == name)).first()
    return found is not None


def _which(session: Session, project_id: str, project: str, model: str, ref: str, field: str) -> str:
    """The alias or number ``ref`` (``model@x``) follows, checked to hold a version of ``model`` now."""
    name, which = split_ref(ref)
    if which is None:
        raise InvalidInput(f"{field} {ref!r} names no alias or version: write {name}@production or {name}@3")
    if name != model:
        raise InvalidInput(f"{field} {ref!r} is another model; a deployment serves versions of {model!r}")
    try:
        find_version(session, project_id, project, ref, include_archived=False)
    except NotFound as exc:
        raise InvalidInput(f"{field} {ref!r} holds no version now: {exc.message}") from None
    return which


class DeploymentService(Service):
    """Deployments of registered models: what ``keel serve NAME`` serves, and to whom."""

    name = "deployments"

    @operation("POST", BASE, action=Action.WRITE, project=project_from("project"), status_code=201)
    def create(
        self,
        project: str,
        name: DeploymentName,
        model: str,
        canary: str | None = None,
        canary_percent: Percent | None = None,
        shadow: str | None = None,
        allow_unsafe_pickle: bool = False,
        settings: dict[str, Any] | None = None,
    ) -> Deployment:
        """Create deployment ``name`` following ``model`` (``churn@production`` or ``churn@3``).

        ``canary`` is another reference of the same model (``churn@candidate``,
        or ``churn@candidate:10%`` with its share); ``canary_percent`` (0-100)
        overrides the share. ``shadow`` sees a copy of every request.
        ``allow_unsafe_pickle`` lets the server load pickled versions.
        Each reference must hold a version now (InvalidInput otherwise).
        """
        model_name, _ = split_ref(model)
        percent = 0
        if canary is not None:
            canary, percent = split_canary(canary)
        if canary_percent is not None:
            percent = check_percent(canary_percent)
            if canary is None and percent:
                raise InvalidInput("canary_percent needs a canary (canary='churn@candidate')")
        try:
            with self.store.write() as session:
                project_row = find_project(session, project)
                find_model(session, project_row.id, project, model_name)
                now = utcnow()
                row = DeploymentRow(
                    id=new_id(),
                    project_id=project_row.id,
                    name=name,
                    model=model_name,
                    target=_which(session, project_row.id, project, model_name, model, "model"),
                    canary=_which(session, project_row.id, project, model_name, canary, "canary")
                    if canary
                    else None,
                    canary_percent=percent,
                    shadow=_which(session, project_row.id, project, model_name, shadow, "shadow")
                    if shadow
                    else None,
                    allow_unsafe_pickle=allow_unsafe_pickle,
                    settings=dict(settings or {}),
                    created_by=current_caller().name,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                session.flush()
                out = deployment_schema(session, row, project)
                self.ctx.audit(
                    session,
                    "deployment.create",
                    out.ref,
                    project_id=project_row.id,
                    name=name,
                    model=model,
                    canary=canary,
                    canary_percent=percent,
                    shadow=shadow,
                    allow_unsafe_pickle=allow_unsafe_pickle,
                )
                return out
        except IntegrityError:
            raise AlreadyExists(f"a deployment named {name!r} already exists (names are unique)") from None

    @operation("GET", BASE, action=Action.READ, project=project_from("project"))
    def ls(self, project: str) -> list[Deployment]:
        """The project's deployments by name, each with the versions its references hold now."""
        with self.store.read() as session:
            project_row = find_project(session, project)
            rows = session.execute(
                select(DeploymentRow)
                .where(DeploymentRow.project_id == project_row.id)
                .order_by(DeploymentRow.name)
            ).scalars()
            return [deployment_schema(session, r, project) for r in rows]

    @operation("GET", BASE + "/{name}", action=Action.READ, project=project_from("project"))
    def get(self, project: str, name: str) -> Deployment:
        """One deployment of the project."""
        with self.store.read() as session:
            return deployment_schema(session, self._find(session, project, name), project)

    @operation("PATCH", BASE + "/{name}", action=Action.WRITE, project=project_from("project"))
    def edit(
        self,
        project: str,
        name: str,
        model: str | None = None,
        canary: str | None = None,
        canary_percent: Percent | None = None,
        shadow: str | None = None,
        remove_canary: bool = False,
        remove_shadow: bool = False,
        allow_unsafe_pickle: bool | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Deployment:
        """Change what a deployment follows, its canary or shadow, or its settings (an audit event)."""
        with self.store.write() as session:
            row = self._find(session, project, name)
            pid = row.project_id
            changes: dict[str, Any] = {}
            if model is not None:
                row.target = _which(session, pid, project, row.model, model, "model")
                changes["model"] = model
            if remove_canary:
                row.canary, row.canary_percent = None, 0
                changes["canary"] = None
            if canary is not None:
                ref, percent = split_canary(canary)
                row.canary = _which(session, pid, project, row.model, ref, "canary")
                row.canary_percent = percent
                changes["canary"] = canary
            if canary_percent is not None:
                if row.canary is None:
                    raise InvalidInput(f"deployment {name!r} has no canary to give canary_percent to")
                row.canary_percent = check_percent(canary_percent)
                changes["canary_percent"] = canary_percent
            if remove_shadow:
                row.shadow = None
                changes["shadow"] = None
            if shadow is not None:
                row.shadow = _which(session, pid, project, row.model, shadow, "shadow")
                changes["shadow"] = shadow
            if allow_unsafe_pickle is not None:
                row.allow_unsafe_pickle = allow_unsafe_pickle
                changes["allow_unsafe_pickle"] = allow_unsafe_pickle
            if settings is not None:
                row.settings = {**row.settings, **settings}
                changes["settings"] = settings
            if not changes:
                raise InvalidInput("nothing to change: name a model, canary, shadow or setting")
            row.updated_at = utcnow()
            out = deployment_schema(session, row, project)
            self.ctx.audit(session, "deployment.edit", out.ref, project_id=pid, name=name, **changes)
            return out

    @operation("DELETE", BASE + "/{name}", action=Action.ADMIN, project=project_from("project"))
    def delete(self, project: str, name: str) -> Deployment:
        """Remove a deployment (admin); its serving tokens stop working with it."""
        with self.store.write() as session:
            row = self._find(session, project, name)
            out = deployment_schema(session, row, project)
            session.delete(row)
            self.ctx.audit(session, "deployment.delete", out.ref, project_id=row.project_id, name=name)
            return out

    def _find(self, session: Session, project: str, name: str) -> DeploymentRow:
        project_row = find_project(session, project)
        row = session.execute(
            select(DeploymentRow).where(
                DeploymentRow.project_id == project_row.id, DeploymentRow.name == name
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(
                f"no deployment named {name!r} in project {project!r}", hint="`keel deploy ls` lists them"
            )
        return row


__all__ = ["DeploymentService", "deployment_exists", "deployment_schema", "locate"]
