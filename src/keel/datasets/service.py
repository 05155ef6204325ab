"""Data operations: record versions, list, show, log, tag, diff, lineage, soft-delete.

The bytes of a version are put into the artifact store by the client (see
:mod:`keel.datasets.build`); :meth:`DataService.add_version` records a version
whose objects are already there, so the same operation serves a laptop and a
remote server. Every version references its objects (the artifact store's
garbage-collection roots) and records ``derived_from`` edges to its parents.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.artifact_service.visibility import visible
from keel.artifacts.references import add_refs, record_tree, remove_refs
from keel.context import Service
from keel.core.constraints import DiffExamples, Limit, LineageDepth, PageToken, VersionRef
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.refs import parse_ref
from keel.core.timeutil import utcnow
from keel.datasets.lookup import (
    content_columns,
    dataset_for,
    dataset_schema,
    find_dataset,
    find_version,
    tags_by_version,
    version_labels,
    version_schema,
)
from keel.datasets.models import DatasetRow, DatasetTagRow, DatasetVersionRow
from keel.datasets.schemas import (
    AddResult,
    Dataset,
    DatasetName,
    DatasetVersion,
    LineageView,
    NewVersion,
    TagName,
    VersionDiff,
)
from keel.lineage import add_edges, downstream, upstream
from keel.projects.service import find_project

_BASE = "/api/v1/projects/{project}/datasets"


class DataService(Service):
    """Datasets of tables and of files, with immutable versions, tags, diffs and lineage."""

    name = "data"

    @operation(
        "POST",
        _BASE + "/{name}/versions",
        action=Action.WRITE,
        project=project_from("project"),
        status_code=201,
    )
    def add_version(
        self,
        project: str,
        name: DatasetName,
        content: NewVersion,
        message: str = "",
        description: str = "",
        parents: list[VersionRef] | None = None,
    ) -> AddResult:
        """Record a version whose objects are in the store; identical content to the latest makes none.

        ``parents`` are ``dataset_version:<id>`` references this version was made from.
        """
        parent_refs = [str(parse_ref(p)) for p in parents or []]
        if any(not p.startswith("dataset_version:") for p in parent_refs):
            raise InvalidInput("parents must be dataset_version:<id> references")
        try:
            with self.store.write() as session:
                return self._add(session, project, name, content, message, description, parent_refs)
        except IntegrityError:
            raise Conflict(
                f"another writer added a version of {name!r} at the same time; try again"
            ) from None

    def _add(
        self,
        session: Session,
        project: str,
        name: str,
        content: NewVersion,
        message: str,
        description: str,
        parents: list[str],
    ) -> AddResult:
        project_row = find_project(session, project)
        self._check_objects(session, project_row.id, content.object_digests())
        dataset = dataset_for(session, project_row.id, project, name, content.kind, description)
        now = utcnow()
        latest = session.execute(
            select(DatasetVersionRow)
            .where(DatasetVersionRow.dataset_id == dataset.id)
            .order_by(DatasetVersionRow.number.desc())
            .limit(1)
        ).scalar_one_or_none()
        tags = tags_by_version(session, dataset.id)
        if latest is not None and latest.digest == content.digest:
            return AddResult(
                version=version_schema(latest, dataset, project, tags.get(latest.id, [])), created=False
            )
        for parent in parents:
            if session.get(DatasetVersionRow, parent.split(":", 1)[1]) is None:
                raise NotFound(f"parent {parent} is not a dataset version")
        row = DatasetVersionRow(
            id=new_id(),
            dataset_id=dataset.id,
            number=(latest.number + 1) if latest else 1,
            **content_columns(content),
            message=message,
            author=current_caller().name,
            created_at=now,
        )
        session.add(row)
        session.flush()
        self._reference(session, row, project_row.id, content.object_digests(), parents)
        return AddResult(version=version_schema(row, dataset, project, [], parents), created=True)

    def _reference(
        self,
        session: Session,
        row: DatasetVersionRow,
        project_id: str,
        digests: list[str],
        parents: list[str],
    ) -> None:
        """The one place a version's references and edges are written, whichever way it came.

        Local SDK, CLI, REST and an imported record all end here: the version
        keeps its objects, and a folder's files become readable through the
        project as its tree's contents.
        """
        ref = f"dataset_version:{row.id}"
        add_refs(session, [(digest, ref) for digest in digests], project_id=project_id)
        if row.layout == "tree":
            record_tree(session, row.digest, {e.digest for e in self.ctx.artifacts.read_tree(row.digest)})
        add_edges(session, [(ref, "derived_from", parent) for parent in parents])

    @operation(
        "POST",
        _BASE + "/{name}/imports",
        action=Action.WRITE,
        project=project_from("project"),
        status_code=201,
    )
    def import_version(self, project: str, name: DatasetName, version: DatasetVersion) -> AddResult:
        """Record a version made in another workspace (``keel data pull``), keeping its number, id and metadata.

        Its objects must be in the store. The same number with the same content
        changes nothing; with other content it is a Conflict (two clones each
        made that version). Tags are added where this workspace has none of that name.
        """
        if version.dataset != name:
            raise InvalidInput(f"the record is of dataset {version.dataset!r}, not {name!r}")
        parents = [str(parse_ref(p)) for p in version.parents]
        if any(not p.startswith("dataset_version:") for p in parents):
            raise InvalidInput("parents must be dataset_version:<id> references")
        try:
            content = NewVersion.model_validate(version.model_dump())
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            raise InvalidInput(f"the version record's {where} is not valid: {error['msg']}") from None
        try:
            with self.store.write() as session:
                project_row = find_project(session, project)
                self._check_objects(session, project_row.id, content.object_digests())
                dataset = dataset_for(session, project_row.id, project, name, version.kind, "")
                return self._import(session, project_row.id, project, dataset, version, content, parents)
        except IntegrityError:
            raise Conflict(
                f"{project}/{name}@v{version.number} or its id exists already with other content"
            ) from None

    def _import(
        self,
        session: Session,
        project_id: str,
        project: str,
        dataset: DatasetRow,
        version: DatasetVersion,
        content: NewVersion,
        parents: list[str],
    ) -> AddResult:
        same_number = session.execute(
            select(DatasetVersionRow).where(
                DatasetVersionRow.dataset_id == dataset.id, DatasetVersionRow.number == version.number
            )
        ).scalar_one_or_none()
        if same_number is not None:
            if same_number.digest != version.digest:
                raise Conflict(
                    f"{project}/{dataset.name}@v{version.number} here has other content than the one pulled "
                    f"({same_number.digest[:12]}... vs {version.digest[:12]}...)",
                    hint="both sides made that version; address either by digest (name@<digest>)",
                )
            row = same_number
            created = False
        else:
            row = DatasetVersionRow(
                id=version.id,
                dataset_id=dataset.id,
                number=version.number,
                **content_columns(content),
                message=version.message,
                author=version.author,
                created_at=version.created_at,
            )
            session.add(row)
            session.flush()
            self._reference(session, row, project_id, content.object_digests(), parents)
            created = True
        taken = {
            t.name
            for t in session.execute(
                select(DatasetTagRow).where(DatasetTagRow.dataset_id == dataset.id)
            ).scalars()
        }
        for tag in sorted(set(version.tags) - taken):
            session.add(
                DatasetTagRow(
                    id=new_id(), dataset_id=dataset.id, name=tag, version_id=row.id, created_at=utcnow()
                )
            )
        session.flush()
        tags = tags_by_version(session, dataset.id).get(row.id, [])
        return AddResult(version=version_schema(row, dataset, project, tags, parents), created=created)

    def _check_objects(self, session: Session, project_id: str, needed: list[str]) -> None:
        """Every object must be stored and readable by this project before a version may reference it.

        A digest stored only for another project answers exactly like a missing
        one, so recording a version never reveals or borrows another project's
        bytes. The single-user admin (a laptop workspace) reads everything.
        """
        unavailable = set(needed) - self.ctx.artifacts.exists(needed)
        if not current_caller().is_admin:
            unavailable |= set(needed) - visible(session, project_id, needed)
        if unavailable:
            raise NotFound(
                f"{len(unavailable)} object(s) of this version are not in the artifact store, "
                f"e.g. {sorted(unavailable)[0]}",
                hint="upload the data's objects before recording the version",
            )

    @operation("GET", _BASE, action=Action.READ, project=project_from("project"))
    def ls(
        self,
        project: str,
        limit: Limit = DEFAULT_PAGE_SIZE,
        page_token: PageToken | None = None,
        deleted: bool = False,
    ) -> Page[Dataset]:
        """List a project's datasets by name, a page at a time (removed ones with ``deleted``)."""
        check_page_size(limit)
        with self.store.read() as session:
            project_row = find_project(session, project)
            query = (
                select(DatasetRow)
                .where(DatasetRow.project_id == project_row.id)
                .order_by(DatasetRow.name)
                .limit(limit + 1)
            )
            if not deleted:
                query = query.where(DatasetRow.deleted_at.is_(None))
            if page_token:
                after = token_position(page_token, "after", str)
                query = query.where(DatasetRow.name > after)
            rows = list(session.execute(query).scalars())
            items = [dataset_schema(session, r, project) for r in rows[:limit]]
        token = encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page[Dataset](items=items, next_token=token)

    @operation("GET", _BASE + "/{name}", action=Action.READ, project=project_from("project"))
    def dataset(self, project: str, name: str) -> Dataset:
        """Show one dataset: kind, how many versions, the latest, its tags.

        Named for what it returns, as :meth:`version` is: the SDK's ``keel.data.get``
        is a different thing (a readable handle on a version).
        """
        with self.store.read() as session:
            return dataset_schema(session, find_dataset(session, project, name), project)

    @operation("GET", _BASE + "/{name}/versions", action=Action.READ, project=project_from("project"))
    def log(
        self, project: str, name: str, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None
    ) -> Page[DatasetVersion]:
        """A dataset's versions, newest first, a page at a time."""
        check_page_size(limit)
        with self.store.read() as session:
            dataset = find_dataset(session, project, name, deleted=True)
            query = (
                select(DatasetVersionRow)
                .where(DatasetVersionRow.dataset_id == dataset.id)
                .order_by(DatasetVersionRow.number.desc())
                .limit(limit + 1)
            )
            if page_token:
                before = token_position(page_token, "before", int)
                query = query.where(DatasetVersionRow.number < before)
            rows = list(session.execute(query).scalars())
            tags = tags_by_version(session, dataset.id)
            items = [version_schema(r, dataset, project, tags.get(r.id, [])) for r in rows[:limit]]
        token = encode_token({"before": items[-1].number}) if len(rows) > limit else None
        return Page[DatasetVersion](items=items, next_token=token)

    @operation(
        "GET", _BASE + "/{name}/versions/{version}", action=Action.READ, project=project_from("project")
    )
    def version(self, project: str, name: str, version: str = "latest") -> DatasetVersion:
        """One version by number (``v3``), ``latest``, tag or digest: schema, profile, files, digest."""
        with self.store.read() as session:
            dataset = find_dataset(session, project, name, deleted=True)
            row = find_version(session, dataset, version)
            tags = tags_by_version(session, dataset.id).get(row.id, [])
            parents = [
                e.dst
                for e in upstream(session, f"dataset_version:{row.id}", depth=1)
                if e.relation == "derived_from"
            ]
            return version_schema(row, dataset, project, tags, parents)

    @operation("POST", _BASE + "/{name}/tags", action=Action.WRITE, project=project_from("project"))
    def tag(self, project: str, name: str, version: str, tag: TagName, force: bool = False) -> DatasetVersion:
        """Name a version (``name@golden``); moving a tag that points elsewhere needs ``force``."""
        if tag == "latest" or (tag.startswith("v") and tag[1:].isdigit()):
            raise InvalidInput(f"{tag!r} cannot be a tag: it reads as a version selector")
        with self.store.write() as session:
            dataset = find_dataset(session, project, name)
            row = find_version(session, dataset, version)
            existing = session.execute(
                select(DatasetTagRow).where(DatasetTagRow.dataset_id == dataset.id, DatasetTagRow.name == tag)
            ).scalar_one_or_none()
            if existing is not None and existing.version_id != row.id:
                if not force:
                    other = session.get(DatasetVersionRow, existing.version_id)
                    where = f"v{other.number}" if other else "another version"
                    raise Conflict(
                        f"tag {tag!r} of {name!r} points to {where} already", hint="pass --force to move it"
                    )
                existing.version_id = row.id
                existing.created_at = utcnow()
            elif existing is None:
                session.add(
                    DatasetTagRow(
                        id=new_id(), dataset_id=dataset.id, name=tag, version_id=row.id, created_at=utcnow()
                    )
                )
            session.flush()
            return version_schema(row, dataset, project, tags_by_version(session, dataset.id).get(row.id, []))

    @operation("DELETE", _BASE + "/{name}", action=Action.WRITE, project=project_from("project"))
    def rm(self, project: str, name: str) -> Dataset:
        """Remove a dataset (soft): its history stays listed, its objects become collectable by gc."""
        with self.store.write() as session:
            dataset = find_dataset(session, project, name)
            dataset.deleted_at = utcnow()
            ids = session.execute(
                select(DatasetVersionRow.id).where(DatasetVersionRow.dataset_id == dataset.id)
            ).scalars()
            for version_id in ids:
                remove_refs(session, f"dataset_version:{version_id}")
            self.ctx.audit(
                session, "dataset.delete", f"dataset:{dataset.id}", project_id=dataset.project_id, name=name
            )
            session.flush()
            return dataset_schema(session, dataset, project)

    @operation("POST", _BASE + "/{name}/diff", action=Action.READ, project=project_from("project"))
    def diff(
        self,
        project: str,
        name: str,
        before: str,
        after: str = "latest",
        after_dataset: str | None = None,
        key: list[str] | None = None,
        examples: DiffExamples = 5,
    ) -> VersionDiff:
        """Compare two versions: files, schema, row counts, column statistics; rows too with ``key``."""
        if not 0 <= examples <= 100:
            raise InvalidInput(f"examples must be between 0 and 100, got {examples}")
        from keel.datasets.diff import diff_versions  # Arrow and NumPy load only when diffing

        old = self.version(project, name, before)
        new = self.version(project, after_dataset or name, after)
        return diff_versions(self.ctx.artifacts, old, new, key=key or None, examples=examples)

    @operation(
        "GET",
        _BASE + "/{name}/versions/{version}/lineage",
        action=Action.READ,
        project=project_from("project"),
    )
    def lineage(
        self, project: str, name: str, version: str = "latest", depth: LineageDepth = 5
    ) -> LineageView:
        """What a version came from and what used it (runs, later models and deployments), both ways."""
        if not 1 <= depth <= 50:
            raise InvalidInput(f"depth must be between 1 and 50, got {depth}")
        found = self.version(project, name, version)
        with self.store.read() as session:
            up = upstream(session, found.ref, depth=depth)
            down = downstream(session, found.ref, depth=depth)
            refs = {found.ref} | {r for e in (*up, *down) for r in (e.src, e.dst)}
            labels = version_labels(session, refs, find_project(session, project).id, project)
        return LineageView(
            version=found.ref,
            upstream=[e.model_dump() for e in up],
            downstream=[e.model_dump() for e in down],
            labels=labels,
        )
