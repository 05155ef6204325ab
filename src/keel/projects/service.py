"""Project operations: create, list, show, edit, and check metrics against the KPIs."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.context import Service
from keel.core.constraints import KpiSpec, Limit, PageToken
from keel.core.errors import AlreadyExists, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.kpi import KPI, KPIReport, Stage, as_kpis, evaluate_kpis
from keel.core.operations import GLOBAL, Action, current_caller, operation, project_from
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow
from keel.projects.models import ProjectRow
from keel.projects.schemas import Project, ProjectName


def _to_schema(row: ProjectRow) -> Project:
    return Project(
        id=row.id,
        name=row.name,
        description=row.description,
        objectives=list(row.objectives),
        kpis=[KPI.model_validate(k) for k in row.kpis],
        owner=row.owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_unique_kpis(kpis: list[KPI]) -> None:
    seen: set[tuple[str, str | None, str | None, str]] = set()
    for kpi in kpis:
        if kpi.key in seen:
            raise InvalidInput(f"KPI {kpi} is given twice (same metric, group, slice and stage)")
        seen.add(kpi.key)


#: The project a fresh workspace has and the ``project`` setting names until the user picks one
#: (MLflow's "Default" experiment).
DEFAULT_PROJECT = "default"

#: How a user chooses the current project, for every error that says none fits.
CHOOSE_HINT = (
    "`keel project ls` lists the projects you can see; choose one with `keel project use NAME`, "
    "--project NAME or KEEL_PROJECT, or make one with `keel project create NAME`"
)


def missing_project(name: str | None) -> NotFound:
    """The error for a project that cannot be found; it never reads "no project named ''"."""
    if not name or not name.strip():
        return NotFound("no project chosen", hint=CHOOSE_HINT)
    return NotFound(f"no project named {name!r}", hint=CHOOSE_HINT)


def find_project(session: Session, name: str) -> ProjectRow:
    """The project row named ``name``; NotFound (naming it, with how to choose) otherwise."""
    if not name or not name.strip():
        raise missing_project(name)
    row = session.execute(select(ProjectRow).where(ProjectRow.name == name)).scalar_one_or_none()
    if row is None:
        raise missing_project(name)
    return row


class ProjectService(Service):
    """Discovery: each project states its problem, objectives and KPIs."""

    name = "projects"

    @operation("POST", "/api/v1/projects", action=Action.CREATE_PROJECT, project=GLOBAL, status_code=201)
    def create(
        self,
        name: ProjectName,
        description: str = "",
        objectives: list[str] | None = None,
        kpis: Sequence[KpiSpec] | None = None,
    ) -> Project:
        """Create a project; its creator becomes its owner."""
        parsed = as_kpis(kpis or [])
        _check_unique_kpis(parsed)
        now = utcnow()
        row = ProjectRow(
            id=new_id(),
            name=name,
            description=description,
            objectives=list(objectives or []),
            kpis=[k.model_dump() for k in parsed],
            owner=current_caller().name,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as session:
                exists = session.execute(select(ProjectRow.id).where(ProjectRow.name == name)).first()
                if exists:
                    raise AlreadyExists(f"a project named {name!r} exists already")
                session.add(row)
                self.ctx.project_created(session, row.id, name)
        except IntegrityError:
            raise AlreadyExists(f"a project named {name!r} exists already") from None
        return _to_schema(row)

    @operation("GET", "/api/v1/projects", action=Action.AUTHENTICATED, project=GLOBAL)
    def ls(self, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None) -> Page[Project]:
        """List projects by name, a page at a time."""
        check_page_size(limit)
        query = select(ProjectRow).order_by(ProjectRow.name).limit(limit + 1)
        if page_token:
            after = token_position(page_token, "after", str)
            query = query.where(ProjectRow.name > after)
        visible = self.ctx.visible_projects()
        if visible is not None:
            query = query.where(ProjectRow.id.in_(visible))
        with self.store.read() as session:
            rows = list(session.execute(query).scalars())
        items = [_to_schema(r) for r in rows[:limit]]
        token = encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page[Project](items=items, next_token=token)

    @operation("GET", "/api/v1/projects/{name}", action=Action.READ, project=project_from("name"))
    def get(self, name: str) -> Project:
        """Show one project: its problem statement, objectives and KPIs."""
        with self.store.read() as session:
            return _to_schema(find_project(session, name))

    @operation("PATCH", "/api/v1/projects/{name}", action=Action.ADMIN, project=project_from("name"))
    def edit(
        self,
        name: str,
        description: str | None = None,
        objectives: list[str] | None = None,
        kpis: Sequence[KpiSpec] | None = None,
        remove_kpis: list[str] | None = None,
    ) -> Project:
        """Change a project: a KPI replaces the one with the same metric, group, slice and stage.

        ``remove_kpis`` names metrics whose KPIs are dropped; naming one the
        project does not have is an error.
        """
        new_kpis = as_kpis(kpis or [])
        _check_unique_kpis(new_kpis)
        with self.store.write() as session:
            row = find_project(session, name)
            current = [KPI.model_validate(k) for k in row.kpis]
            for metric in remove_kpis or []:
                if not any(k.metric == metric for k in current):
                    raise InvalidInput(f"project {name!r} has no KPI on metric {metric!r} to remove")
                current = [k for k in current if k.metric != metric]
            by_key = {k.key: k for k in current}
            for kpi in new_kpis:
                by_key[kpi.key] = kpi
            if description is not None:
                row.description = description
            if objectives is not None:
                row.objectives = list(objectives)
            row.kpis = [k.model_dump() for k in by_key.values()]
            row.updated_at = utcnow()
            return _to_schema(row)

    @operation(
        "POST",
        "/api/v1/projects/{name}/kpis/evaluate",
        action=Action.READ,
        project=project_from("name"),
    )
    def evaluate(self, name: str, metrics: dict[str, float], stage: Stage | None = None) -> KPIReport:
        """Check metric values against the project's KPIs (all, or one stage's)."""
        return evaluate_kpis(self.get(name).kpis, metrics, stage=stage)
