"""Which project a deployment belongs to, asked of the registry (the prediction log never reads its tables)."""

from __future__ import annotations

from keel.context import Context
from keel.core.errors import NotFound
from keel.projects.service import find_project
from keel.registry.deployments import locate


def deployment_owner(ctx: Context, deployment: str) -> tuple[str, str]:
    """(project id, deployment id) of deployment ``deployment``; NotFound naming it otherwise."""
    found, _ = locate(ctx, deployment)
    with ctx.store.read() as session:
        return find_project(session, found.project).id, found.id


def check_in_project(ctx: Context, project: str, deployment: str) -> tuple[str, str]:
    """(project id, deployment id), checking the deployment is ``project``'s (NotFound naming both else)."""
    try:
        found, _ = locate(ctx, deployment)
    except NotFound:
        found = None
    if found is None or found.project != project:
        raise NotFound(
            f"no deployment named {deployment!r} in project {project!r}", hint="`keel deploy ls` lists them"
        )
    with ctx.store.read() as session:
        return find_project(session, project).id, found.id
