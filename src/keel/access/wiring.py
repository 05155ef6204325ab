"""Turning auth on for a Context: the role authorizer, wired to the projects capability's lookup.

``keel.auth`` (L1) may not read the projects table, so the authorizer is
given a resolver callable (project name -> id); this module, above
``keel.projects``, builds that callable from ``find_project``.
"""

from __future__ import annotations

from keel.auth.authorizer import RoleAuthorizer
from keel.context import Context
from keel.core.errors import NotFound
from keel.projects.service import find_project


def enable_auth(ctx: Context) -> RoleAuthorizer:
    """Give ``ctx`` the role-based authorizer (tokens, roles) and return it."""

    def resolve(name: str) -> str | None:
        with ctx.store.read() as session:
            try:
                return find_project(session, name).id
            except NotFound:
                return None

    cache_s = ctx.settings.values.get("auth_cache_s") or 5.0
    authorizer = RoleAuthorizer(lambda: ctx.store, resolve, cache_s=float(cache_s))
    ctx.authorizer = authorizer
    return authorizer
