"""What the access services share: finding users and turning rows into schemas."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.access.schemas import Token, User
from keel.auth.authorizer import RoleAuthorizer
from keel.auth.models import TokenRow, UserRow
from keel.context import Context
from keel.core.errors import NotFound
from keel.projects.service import find_project


def find_user(session: Session, name: str) -> UserRow:
    """The user named ``name``; NotFound otherwise."""
    row = session.execute(select(UserRow).where(UserRow.name == name)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no user named {name!r}", hint="see `keel user ls`")
    return row


def project_id(session: Session, name: str) -> str:
    """The id of the project named ``name`` (NotFound otherwise), through the projects capability."""
    return find_project(session, name).id


def user_schema(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        email=row.email,
        is_admin=row.is_admin,
        can_create_projects=row.can_create_projects,
        disabled=row.disabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def token_schema(row: TokenRow, user: str) -> Token:
    return Token(
        id=row.id,
        user=user,
        name=row.name,
        scope=row.scope,
        deployment=row.deployment,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def invalidate(ctx: Context) -> None:
    """Drop this process's cached token verifications after a revoke or a user change."""
    if isinstance(ctx.authorizer, RoleAuthorizer):
        ctx.authorizer.invalidate()
