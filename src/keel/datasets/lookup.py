"""Finding (or making) datasets and versions in this capability's tables, and turning rows into schemas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.core.errors import AlreadyExists, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.timeutil import utcnow
from keel.datasets.address_syntax import selector_kind
from keel.datasets.models import DatasetRow, DatasetTagRow, DatasetVersionRow
from keel.datasets.schemas import Dataset, DatasetKind, DatasetVersion, FileTypeSummary, NewVersion
from keel.projects.service import find_project
from keel.stats import ColumnSchema, TableProfile


def find_dataset(session: Session, project: str, name: str, *, deleted: bool = False) -> DatasetRow:
    """The dataset ``name`` of ``project``; NotFound (naming both) otherwise."""
    project_row = find_project(session, project)
    row = session.execute(
        select(DatasetRow).where(DatasetRow.project_id == project_row.id, DatasetRow.name == name)
    ).scalar_one_or_none()
    if row is None or (row.deleted_at is not None and not deleted):
        raise NotFound(f"no dataset {name!r} in project {project!r}", hint="see `keel data ls`")
    return row


def find_version(session: Session, dataset: DatasetRow, selector: str) -> DatasetVersionRow:
    """The version a selector (``latest``, ``v3``, a tag, a digest) names; NotFound otherwise."""
    kind, value = selector_kind(selector)
    query = select(DatasetVersionRow).where(DatasetVersionRow.dataset_id == dataset.id)
    if kind == "latest":
        query = query.order_by(DatasetVersionRow.number.desc()).limit(1)
    elif kind == "number":
        query = query.where(DatasetVersionRow.number == value)
    elif kind == "digest":
        query = (
            query.where(DatasetVersionRow.digest == value).order_by(DatasetVersionRow.number.desc()).limit(1)
        )
    else:
        tag = session.execute(
            select(DatasetTagRow).where(DatasetTagRow.dataset_id == dataset.id, DatasetTagRow.name == value)
        ).scalar_one_or_none()
        if tag is None:
            raise NotFound(f"dataset {dataset.name!r} has no version or tag {selector!r}")
        query = query.where(DatasetVersionRow.id == tag.version_id)
    row = session.execute(query).scalars().first()
    if row is None:
        what = "no versions yet" if kind == "latest" else f"no version {selector!r}"
        raise NotFound(f"dataset {dataset.name!r} has {what}", hint=f"see `keel data log {dataset.name}`")
    return row


def tags_by_version(session: Session, dataset_id: str) -> dict[str, list[str]]:
    rows = session.execute(
        select(DatasetTagRow.version_id, DatasetTagRow.name).where(DatasetTagRow.dataset_id == dataset_id)
    ).all()
    out: dict[str, list[str]] = {}
    for version_id, name in rows:
        out.setdefault(version_id, []).append(name)
    return out


def version_schema(
    row: DatasetVersionRow,
    dataset: DatasetRow,
    project: str,
    tags: list[str],
    parents: list[str] | None = None,
) -> DatasetVersion:
    return DatasetVersion(
        id=row.id,
        project=project,
        dataset=dataset.name,
        number=row.number,
        kind=dataset.kind,
        digest=row.digest,
        layout=row.layout,
        source_name=row.source_name,
        format=row.format,
        files=row.files,
        size=row.size,
        rows=row.rows,
        table_parts=list(row.table_parts),
        sample_digest=row.sample_digest,
        columns=[ColumnSchema.model_validate(c) for c in row.schema_],
        profile=TableProfile.model_validate(row.profile) if row.profile else None,
        summary=[FileTypeSummary.model_validate(s) for s in row.summary or []],
        tags=sorted(tags),
        message=row.message,
        author=row.author,
        created_at=row.created_at,
        parents=parents or [],
    )


def dataset_schema(session: Session, row: DatasetRow, project: str) -> Dataset:
    count, latest = session.execute(
        select(func.count(DatasetVersionRow.id), func.max(DatasetVersionRow.number)).where(
            DatasetVersionRow.dataset_id == row.id
        )
    ).one()
    tag_rows = session.execute(
        select(DatasetTagRow.name, DatasetVersionRow.number)
        .join(DatasetVersionRow, DatasetVersionRow.id == DatasetTagRow.version_id)
        .where(DatasetTagRow.dataset_id == row.id)
    ).all()
    return Dataset(
        id=row.id,
        project=project,
        name=row.name,
        kind=row.kind,
        description=row.description,
        created_at=row.created_at,
        deleted=row.deleted_at is not None,
        versions=int(count or 0),
        latest=latest,
        tags={name: number for name, number in tag_rows},
    )


def versions_by_id(session: Session, version_ids: list[str]) -> dict[str, tuple[str, str, int]]:
    """For other capabilities' references: version id -> (project id, dataset name, number); unknown ids left out."""
    if not version_ids:
        return {}
    rows = session.execute(
        select(DatasetVersionRow.id, DatasetRow.project_id, DatasetRow.name, DatasetVersionRow.number)
        .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
        .where(DatasetVersionRow.id.in_(version_ids))
    ).all()
    return {vid: (pid, name, int(number)) for vid, pid, name, number in rows}


def content_columns(content: NewVersion) -> dict[str, Any]:
    """A version row's content columns, from what the client built (or a pulled record)."""
    return {
        "digest": content.digest,
        "layout": content.layout,
        "source_name": content.source_name,
        "format": content.format,
        "files": content.files,
        "size": content.size,
        "rows": content.rows,
        "table_parts": list(content.table_parts),
        "sample_digest": content.sample_digest,
        "schema_": [c.model_dump() for c in content.columns],
        "profile": content.profile.model_dump(mode="json") if content.profile else None,
        "summary": [s.model_dump() for s in content.summary],
    }


def dataset_for(
    session: Session, project_id: str, project: str, name: str, kind: DatasetKind, description: str
) -> DatasetRow:
    """The dataset ``name`` of the project, made if new; refused if removed or of another kind."""
    dataset = session.execute(
        select(DatasetRow).where(DatasetRow.project_id == project_id, DatasetRow.name == name)
    ).scalar_one_or_none()
    if dataset is None:
        dataset = DatasetRow(
            id=new_id(),
            project_id=project_id,
            name=name,
            kind=kind,
            description=description,
            created_at=utcnow(),
            deleted_at=None,
        )
        session.add(dataset)
        session.flush()
    elif dataset.deleted_at is not None:
        raise AlreadyExists(
            f"dataset {name!r} of project {project!r} was removed; its name stays taken",
            hint="pick another name",
        )
    elif dataset.kind != kind:
        raise InvalidInput(
            f"dataset {name!r} holds {dataset.kind}, and this content is {kind}",
            hint="version it under another name, or pass --kind " + dataset.kind,
        )
    return dataset


def version_labels(session: Session, refs: set[str], project_id: str, project: str) -> dict[str, str]:
    """Addresses (``churn/churn-train@v3``) of the ``dataset_version:<id>`` refs among ``refs``.

    A version of another project is labelled ``name@vN`` alone: naming its
    project would mean reading the projects capability's table.
    """
    ids = [r.split(":", 1)[1] for r in refs if r.startswith("dataset_version:")]
    labels: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(DatasetVersionRow.id, DatasetVersionRow.number, DatasetRow.name, DatasetRow.project_id)
            .join(DatasetRow, DatasetRow.id == DatasetVersionRow.dataset_id)
            .where(DatasetVersionRow.id.in_(ids[start : start + 500]))
        ).all()
        for version_id, number, name, owner in rows:
            prefix = f"{project}/" if owner == project_id else ""
            labels[f"dataset_version:{version_id}"] = f"{prefix}{name}@v{number}"
    return labels
