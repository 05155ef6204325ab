"""Issuing a token: a fresh secret, its hash stored, the secret returned once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from keel.auth.models import TokenRow
from keel.auth.tokens import generate_token, hash_token
from keel.core.ids import new_id
from keel.core.timeutil import utcnow


def issue_token(
    session: Session,
    user_id: str,
    name: str,
    *,
    created_by: str,
    expires_at: datetime | None = None,
    scope: str | None = None,
    deployment: str | None = None,
) -> tuple[TokenRow, str]:
    """Add a token for ``user_id``; returns the row and the secret (which is not stored)."""
    secret = generate_token()
    row = TokenRow(
        id=new_id(),
        user_id=user_id,
        name=name,
        token_hash=hash_token(secret),
        scope=scope,
        deployment=deployment,
        created_by=created_by,
        created_at=utcnow(),
        expires_at=expires_at,
        revoked_at=None,
        last_used_at=None,
    )
    session.add(row)
    return row, secret
