"""Registry operations: register versions, list and show them, describe, tag, archive, delete, lineage.

A version's bytes are a model package (:mod:`keel.models`) already put in
the artifact store as one tree; registering checks the tree against its
manifest, references it as ``model_version:<id>`` (so gc keeps it until the
version is deleted) and records ``model_version --produced_by--> run``, so
lineage reaches the run's datasets. Alias moves live in :mod:`keel.registry.aliases`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from keel.artifacts.references import add_refs, record_tree, remove_refs
from keel.core.constraints import Limit, PageToken
from keel.core.errors import Conflict, InvalidInput
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.lineage import add_edges, downstream, upstream
from keel.projects.service import find_project
from keel.registry.aliases import BASE, AliasOperations
from keel.registry.gate import evaluate_gate
from keel.registry.lookup import (
    VERSION_PREFIX,
    aliases_of,
    find_model,
    find_version,
    model_schema,
    version_schema,
    versions_named,
)
from keel.registry.models import ModelRow, ModelVersionRow
from keel.registry.package import read_package
from keel.registry.policy import PolicyOperations, policy_of, retain
from keel.registry.schemas import GateReport, ModelLineage, ModelName, ModelVersion, RegisteredModel
from keel.tracking.resolve_refs import register_kind
from keel.tracking.service import RunService

# A run's lineage (tracking, below us) shows model versions by address, to those who may read them.
register_kind("model_version", versions_named)


class ModelService(AliasOperations, PolicyOperations):
    """The model registry: models per project, immutable versions, aliases, a KPI-gated promotion."""

    name = "models"

    @operation(
        "POST",
        BASE + "/{name}/versions",
        action=Action.WRITE,
        project=project_from("project"),
        status_code=201,
    )
    def register(
        self,
        project: str,
        name: ModelName,
        package: str,
        run_id: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Record a new version of model ``name`` from package ``package`` (a tree digest already stored).

        ``run_id`` is the run that made it (same project); the package's files
        are checked against its manifest before anything is written. A
        converted package (``keel model convert``) names its source version in
        its manifest; that version must be in the project, and becomes an edge
        ``converted_from``. The project's retention (``keep_last``) then
        archives this model's unaliased versions beyond the newest N.
        """
        if run_id is not None:
            run = RunService(self.ctx).get(run_id)
            if run.project != project:
                raise InvalidInput(f"run {run_id} is in project {run.project!r}, not {project!r}")
        try:
            with self.store.write() as session:
                project_row = find_project(session, project)
                manifest, entries = read_package(session, self.ctx.artifacts, project_row.id, package)
                now = utcnow()
                model = session.execute(
                    select(ModelRow).where(ModelRow.project_id == project_row.id, ModelRow.name == name)
                ).scalar_one_or_none()
                if model is None:
                    model = ModelRow(
                        id=new_id(),
                        project_id=project_row.id,
                        name=name,
                        description="",
                        tags={},
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(model)
                    session.flush()
                latest = session.execute(
                    select(func.max(ModelVersionRow.number)).where(ModelVersionRow.model_id == model.id)
                ).scalar_one()
                row = ModelVersionRow(
                    id=new_id(),
                    model_id=model.id,
                    number=(latest or 0) + 1,
                    package_digest=package,
                    flavor=manifest.flavor,
                    run_id=run_id,
                    manifest=manifest.model_dump(mode="json"),
                    size=sum(e.size for e in entries),
                    description=description,
                    tags=dict(tags or {}),
                    status="active",
                    created_by=current_caller().name,
                    created_at=now,
                )
                session.add(row)
                model.updated_at = now
                session.flush()
                ref = f"model_version:{row.id}"
                add_refs(session, [(package, ref)], project_id=project_row.id)
                record_tree(session, package, {e.digest for e in entries})
                if run_id is not None:
                    add_edges(session, [(ref, "produced_by", f"run:{run_id}")])
                source = (manifest.converted_from or {}).get("version")
                if source is not None:  # a converted package: lineage to the version it came from
                    if not (isinstance(source, str) and source.startswith(VERSION_PREFIX)):
                        raise InvalidInput(
                            f"package {package}: converted_from.version {source!r} is not a model_version:<id>"
                        )
                    _, origin = find_version(session, project_row.id, project, source)
                    add_edges(session, [(ref, "converted_from", f"{VERSION_PREFIX}{origin.id}")])
                retain(session, model, policy_of(session, project_row.id, project).keep_last)
                return version_schema(session, model, row, project)
        except IntegrityError:
            raise Conflict(
                f"another writer registered a version of {name!r} at the same time; try again"
            ) from None

    @operation("GET", BASE, action=Action.READ, project=project_from("project"))
    def ls(
        self, project: str, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None
    ) -> Page[RegisteredModel]:
        """List the project's models by name, a page at a time."""
        check_page_size(limit)
        with self.store.read() as session:
            project_row = find_project(session, project)
            query = select(ModelRow).where(ModelRow.project_id == project_row.id).order_by(ModelRow.name)
            if page_token:
                query = query.where(ModelRow.name > token_position(page_token, "after", str))
            rows = list(session.execute(query.limit(limit + 1)).scalars())
            items = [model_schema(session, r, project) for r in rows[:limit]]
        token = encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page[RegisteredModel](items=items, next_token=token)

    @operation("GET", BASE + "/{name}/versions", action=Action.READ, project=project_from("project"))
    def versions(self, project: str, name: str, include_archived: bool = False) -> list[ModelVersion]:
        """A model's versions, newest first; archived ones only when asked."""
        with self.store.read() as session:
            project_row = find_project(session, project)
            model = find_model(session, project_row.id, project, name)
            query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
            if not include_archived:
                query = query.where(ModelVersionRow.status == "active")
            rows = session.execute(query.order_by(ModelVersionRow.number.desc())).scalars()
            return [version_schema(session, model, r, project) for r in rows]

    @operation("GET", BASE + "/versions/{ref}", action=Action.READ, project=project_from("project"))
    def get(self, project: str, ref: str) -> ModelVersion:
        """One version: ``name@3``, ``name@alias``, ``name`` (latest) or ``model_version:<id>``."""
        with self.store.read() as session:
            project_row = find_project(session, project)
            model, row = find_version(session, project_row.id, project, ref)
            return version_schema(session, model, row, project)

    @operation("GET", BASE + "/versions/{ref}/gate", action=Action.READ, project=project_from("project"))
    def gate(self, project: str, ref: str) -> GateReport:
        """What the promotion gate would say of this version now (the KPI report ``model show`` prints)."""
        from keel.core.kpi import KPI

        with self.store.read() as session:
            project_row = find_project(session, project)
            kpis = [KPI.model_validate(k) for k in project_row.kpis]
        return evaluate_gate(self.ctx, self.get(project, ref), kpis)

    @operation("GET", BASE + "/versions/{ref}/lineage", action=Action.READ, project=project_from("project"))
    def lineage(self, project: str, ref: str) -> ModelLineage:
        """What made the version (its run, the run's datasets) and what refers to it."""
        version = self.get(project, ref)
        with self.store.read() as session:
            return ModelLineage(
                ref=version.ref,
                upstream=upstream(session, version.ref),
                downstream=downstream(session, version.ref),
            )

    @operation("PATCH", BASE + "/{name}", action=Action.WRITE, project=project_from("project"))
    def edit(
        self,
        project: str,
        name: str,
        version: int | None = None,
        description: str | None = None,
        tags: dict[str, str] | None = None,
        remove_tags: list[str] | None = None,
    ) -> RegisteredModel:
        """Describe or tag a model, or one of its versions when ``version`` is given."""
        with self.store.write() as session:
            project_row = find_project(session, project)
            model = find_model(session, project_row.id, project, name)
            target: ModelRow | ModelVersionRow = model
            if version is not None:
                target = find_version(session, project_row.id, project, f"{name}@{version}")[1]
            current = dict(target.tags)
            for key in remove_tags or []:
                if key not in current:
                    raise InvalidInput(f"{name}{'@' + str(version) if version else ''} has no tag {key!r}")
                del current[key]
            current.update(tags or {})
            target.tags = current
            if description is not None:
                target.description = description
            model.updated_at = utcnow()
            return model_schema(session, model, project)

    @operation(
        "POST",
        BASE + "/{name}/versions/{version}/archive",
        action=Action.WRITE,
        project=project_from("project"),
    )
    def archive(self, project: str, name: str, version: int, archived: bool = True) -> ModelVersion:
        """Hide a version from listings (kept, still referenced); ``archived=False`` restores it."""
        with self.store.write() as session:
            project_row = find_project(session, project)
            model, row = find_version(session, project_row.id, project, f"{name}@{version}")
            held = [a for a, vid in aliases_of(session, model.id).items() if vid == row.id]
            if archived and held:
                raise Conflict(f"{name}@{version} holds alias {held[0]!r}; move the alias first")
            row.status = "archived" if archived else "active"
            return version_schema(session, model, row, project)

    @operation(
        "DELETE", BASE + "/{name}/versions/{version}", action=Action.ADMIN, project=project_from("project")
    )
    def delete(self, project: str, name: str, version: int) -> ModelVersion:
        """Delete a version (admin): its references go, so gc can reclaim the package's bytes."""
        with self.store.write() as session:
            project_row = find_project(session, project)
            model, row = find_version(session, project_row.id, project, f"{name}@{version}")
            held = [a for a, vid in aliases_of(session, model.id).items() if vid == row.id]
            if held:
                raise Conflict(f"{name}@{version} holds alias {held[0]!r}; move the alias first")
            out = version_schema(session, model, row, project)
            ref = f"model_version:{row.id}"
            remove_refs(session, ref)
            session.delete(row)
            self.ctx.audit(
                session, "model_version.delete", ref, project_id=project_row.id, model=name, version=version
            )
            return out


__all__ = ["ModelService"]
