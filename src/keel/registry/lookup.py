"""Finding models and versions, and turning rows into what the operations return.

A version is named ``model@3`` (number), ``model@candidate`` (alias),
``model`` (its latest active version) or ``model_version:<id>``.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.core.errors import InvalidInput, NotFound
from keel.registry.models import ModelAliasRow, ModelRow, ModelVersionRow
from keel.registry.schemas import ModelVersion, RegisteredModel, check_alias
from keel.tracking.resolve_refs import Named

VERSION_PREFIX = "model_version:"


def find_model(session: Session, project_id: str, project: str, name: str) -> ModelRow:
    row = session.execute(
        select(ModelRow).where(ModelRow.project_id == project_id, ModelRow.name == name)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no model named {name!r} in project {project!r}", hint="`keel model ls` lists them")
    return row


def aliases_of(session: Session, model_id: str) -> dict[str, str]:
    """alias -> version id, for one model."""
    rows = session.execute(select(ModelAliasRow).where(ModelAliasRow.model_id == model_id)).scalars()
    return {r.alias: r.version_id for r in rows}


def split_ref(ref: str) -> tuple[str, str | None]:
    """``("churn", "3" | "production" | None)`` from ``churn@3``; InvalidInput if malformed."""
    name, sep, which = ref.partition("@")
    if not name or (sep and not which):
        raise InvalidInput(f"{ref!r} is not a model reference: write NAME, NAME@VERSION or NAME@ALIAS")
    return name, which if sep else None


def find_version(
    session: Session, project_id: str, project: str, ref: str, *, include_archived: bool = True
) -> tuple[ModelRow, ModelVersionRow]:
    """The model and version ``ref`` names in the project; NotFound naming what is missing."""
    if ref.startswith(VERSION_PREFIX):
        version = session.get(ModelVersionRow, ref[len(VERSION_PREFIX) :])
        model = session.get(ModelRow, version.model_id) if version is not None else None
        if version is None or model is None or model.project_id != project_id:
            raise NotFound(f"no {ref} in project {project!r}")
        return model, version
    name, which = split_ref(ref)
    model = find_model(session, project_id, project, name)
    query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
    if which is None:
        query = (
            query.where(ModelVersionRow.status == "active").order_by(ModelVersionRow.number.desc()).limit(1)
        )
        found = session.execute(query).scalar_one_or_none()
        if found is None:
            raise NotFound(f"model {name!r} has no active version")
        return model, found
    if which.isdigit():
        found = session.execute(query.where(ModelVersionRow.number == int(which))).scalar_one_or_none()
        if found is None or (found.status != "active" and not include_archived):
            raise NotFound(f"model {name!r} has no version {which}")
        return model, found
    holder = aliases_of(session, model.id).get(check_alias(which))
    if holder is None:
        raise NotFound(f"model {name!r} has no alias {which!r}")
    version = session.get(ModelVersionRow, holder)
    assert version is not None
    return model, version


def version_schema(session: Session, model: ModelRow, row: ModelVersionRow, project: str) -> ModelVersion:
    held = sorted(alias for alias, vid in aliases_of(session, model.id).items() if vid == row.id)
    return ModelVersion(
        id=row.id,
        project=project,
        model=model.name,
        number=row.number,
        package_digest=row.package_digest,
        flavor=row.flavor,
        run_id=row.run_id,
        size=row.size,
        description=row.description,
        tags=dict(row.tags),
        status=row.status,
        aliases=held,
        created_by=row.created_by,
        created_at=row.created_at,
        manifest=dict(row.manifest),
    )


def model_schema(session: Session, row: ModelRow, project: str) -> RegisteredModel:
    count, latest = session.execute(
        select(func.count(), func.max(ModelVersionRow.number)).where(
            ModelVersionRow.model_id == row.id, ModelVersionRow.status == "active"
        )
    ).one()
    numbers: dict[str, int] = {
        vid: number
        for vid, number in session.execute(
            select(ModelVersionRow.id, ModelVersionRow.number).where(ModelVersionRow.model_id == row.id)
        )
    }
    aliases = {alias: numbers[vid] for alias, vid in sorted(aliases_of(session, row.id).items())}
    return RegisteredModel(
        id=row.id,
        project=project,
        name=row.name,
        description=row.description,
        tags=dict(row.tags),
        latest_version=latest,
        versions=int(count),
        aliases=aliases,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def versions_named(session: Session, ids: list[str]) -> dict[str, Named]:
    """``model_version`` ids -> their project and address (``churn@3``), for lineage answers."""
    rows = session.execute(
        select(ModelVersionRow.id, ModelRow.project_id, ModelRow.name, ModelVersionRow.number)
        .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
        .where(ModelVersionRow.id.in_(ids))
    )
    return {vid: Named(pid, f"{name}@{number}") for vid, pid, name, number in rows}
