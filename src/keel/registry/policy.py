"""A project's registry policy: which aliases only admins move (through the gate), and retention.

``protected_aliases`` defaults to ``["production"]``; a project admin may
name others (``["production", "staging"]``) or none. A protected alias is
never set directly: it moves by ``promote`` (the KPI gate) or ``rollback``,
and only by a project admin.

``keep_last`` is retention: for each model, keep the newest N active
versions that hold no alias, and archive the older ones (kept, still
referenced, hidden from listings; ``keel model archive --restore`` undoes
it). A version holding an alias is never archived by retention, whatever
its age. Retention runs after each registration, for that model, and on
demand for every model (``keel model retain``, with ``dry_run`` to preview).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.context import Service
from keel.core.constraints import AliasName, KeepLast
from keel.core.errors import InvalidInput
from keel.core.operations import Action, current_caller, operation, project_from
from keel.core.timeutil import utcnow
from keel.projects.service import find_project
from keel.registry.lookup import aliases_of, find_model
from keel.registry.models import ModelPolicyRow, ModelRow, ModelVersionRow
from keel.registry.schemas import DEFAULT_PROTECTED, ModelPolicy, RetentionReport, check_alias

POLICY_PATH: Final = "/api/v1/projects/{project}/model-policy"
#: The most versions a retention policy may keep (a sanity bound; more is "no retention").
MAX_KEEP: Final = 10_000


def policy_of(session: Session, project_id: str, project: str) -> ModelPolicy:
    """The project's policy, or the default (``production`` protected, no retention)."""
    row = session.get(ModelPolicyRow, project_id)
    if row is None:
        return ModelPolicy(project=project, protected_aliases=sorted(DEFAULT_PROTECTED), keep_last=None)
    return ModelPolicy(
        project=project,
        protected_aliases=sorted(row.protected_aliases),
        keep_last=row.keep_last,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def to_archive(session: Session, model: ModelRow, keep_last: int) -> list[ModelVersionRow]:
    """The active versions of ``model`` retention would archive: unaliased ones beyond the newest ``keep_last``."""
    held = set(aliases_of(session, model.id).values())
    rows = session.execute(
        select(ModelVersionRow)
        .where(ModelVersionRow.model_id == model.id, ModelVersionRow.status == "active")
        .order_by(ModelVersionRow.number.desc())
    ).scalars()
    unaliased = [r for r in rows if r.id not in held]
    return unaliased[keep_last:]


def retain(session: Session, model: ModelRow, keep_last: int | None) -> list[int]:
    """Archive what retention says for ``model`` (in the caller's transaction); the version numbers archived."""
    if keep_last is None:
        return []
    archived = to_archive(session, model, keep_last)
    for row in archived:
        row.status = "archived"
    return sorted(r.number for r in archived)


class PolicyOperations(Service):
    """The policy half of the registry: show and set the project's policy, apply retention."""

    @operation("GET", POLICY_PATH, action=Action.READ, project=project_from("project"))
    def policy(self, project: str) -> ModelPolicy:
        """The project's registry policy: protected aliases and retention (``keep_last``)."""
        with self.store.read() as session:
            return policy_of(session, find_project(session, project).id, project)

    @operation("PUT", POLICY_PATH, action=Action.ADMIN, project=project_from("project"))
    def set_policy(
        self,
        project: str,
        protected_aliases: list[AliasName] | None = None,
        keep_last: KeepLast | None = None,
    ) -> ModelPolicy:
        """Set the policy (project admins); a field left out keeps its value, ``keep_last=0`` turns retention off.

        Setting ``keep_last`` does not archive anything by itself: the next
        registration of each model does, or ``retain`` now.
        """
        if protected_aliases is not None:
            for alias in protected_aliases:
                check_alias(alias)
        if keep_last is not None and not 0 <= keep_last <= MAX_KEEP:
            raise InvalidInput(
                f"keep_last must be between 1 and {MAX_KEEP} (0 turns retention off), not {keep_last}"
            )
        with self.store.write() as session:
            project_row = find_project(session, project)
            current = policy_of(session, project_row.id, project)
            row = session.get(ModelPolicyRow, project_row.id)
            if row is None:
                row = ModelPolicyRow(project_id=project_row.id)
                session.add(row)
            row.protected_aliases = sorted(
                set(protected_aliases) if protected_aliases is not None else set(current.protected_aliases)
            )
            row.keep_last = current.keep_last if keep_last is None else (keep_last or None)
            row.updated_by, row.updated_at = current_caller().name, utcnow()
            session.flush()
            self.ctx.audit(
                session,
                "model.policy",
                f"project:{project_row.id}",
                project_id=project_row.id,
                protected_aliases=row.protected_aliases,
                keep_last=row.keep_last,
            )
            return policy_of(session, project_row.id, project)

    @operation(
        "POST",
        "/api/v1/projects/{project}/models/retention",
        action=Action.WRITE,
        project=project_from("project"),
    )
    def retain(self, project: str, name: str | None = None, dry_run: bool = False) -> RetentionReport:
        """Apply the project's retention now, to model ``name`` or to every model; ``dry_run`` only reports."""
        with self.store.write() as session:
            project_row = find_project(session, project)
            keep_last = policy_of(session, project_row.id, project).keep_last
            if name is not None:
                models = [find_model(session, project_row.id, project, name)]
            else:
                query = select(ModelRow).where(ModelRow.project_id == project_row.id).order_by(ModelRow.name)
                models = list(session.execute(query).scalars())
            archived: dict[str, list[int]] = {}
            for model in models if keep_last is not None else []:
                assert keep_last is not None
                numbers = (
                    sorted(r.number for r in to_archive(session, model, keep_last))
                    if dry_run
                    else retain(session, model, keep_last)
                )
                if numbers:
                    archived[model.name] = numbers
            if archived and not dry_run:
                self.ctx.audit(
                    session,
                    "model.retention",
                    f"project:{project_row.id}",
                    project_id=project_row.id,
                    keep_last=keep_last,
                    archived=archived,
                )
            return RetentionReport(project=project, keep_last=keep_last, archived=archived, dry_run=dry_run)
