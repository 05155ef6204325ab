"""What the access operations take and return."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, StringConstraints

UserName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@\-]*$", min_length=1, max_length=100)
]
TokenName = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f]+$", min_length=1, max_length=100)]
Scope = Literal["predict"]


class User(BaseModel):
    """A person or a service account that signs in with tokens."""

    id: str
    name: str
    email: str | None
    is_admin: bool
    can_create_projects: bool
    disabled: bool
    created_at: datetime
    updated_at: datetime


class Token(BaseModel):
    """An API token's record; the secret itself is never stored or shown again."""

    id: str
    user: str
    name: str
    scope: str | None
    deployment: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedToken(BaseModel):
    """A token just issued: ``secret`` is shown this once and cannot be recovered."""

    token: Token
    secret: str


class NewUser(BaseModel):
    """A user just added, with a first token (its secret shown this once)."""

    user: User
    token: Token
    secret: str


class Whoami(BaseModel):
    """Who the server takes the caller to be."""

    name: str
    is_admin: bool
    can_create_projects: bool
    scopes: list[str]
    token_id: str | None


class RoleBinding(BaseModel):
    """One user's role on one project."""

    user: str
    project: str
    role: str
    granted_by: str
    created_at: datetime


class AuditEvent(BaseModel):
    """One append-only record: who did what to what, when, from where."""

    id: str
    at: datetime
    actor: str
    action: str
    target: str
    project_id: str | None
    address: str | None
    details: dict[str, Any]
