"""Token operations: create (shown once), list, revoke.

Users manage their own tokens; an admin manages anyone's. Serving tokens
(scope ``predict`` on one deployment) are issued by admins only. A caller
asking about another user's token without being an admin is told it does not
exist, as for projects it may not see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.access.common import find_user, invalidate, token_schema
from keel.access.schemas import IssuedToken, Scope, Token, TokenName, UserName
from keel.auth import audit
from keel.auth.durations import parse_duration
from keel.auth.issue import issue_token
from keel.auth.models import TokenRow, UserRow
from keel.context import Service
from keel.core.constraints import Duration
from keel.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from keel.core.operations import GLOBAL, Action, Caller, current_caller, operation
from keel.core.timeutil import utcnow
from keel.projects.idprefix import find_id


@functools.cache
def _deployment_lookup() -> Callable[[Session, str], bool] | None:
    """The deployments capability's ``deployment_exists`` (entry point ``keel.deployment_lookup``), if installed.

    Access sits below the registry, so it finds the lookup the way ``keel.models``
    finds its registry source: by entry point, loaded on first use.
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group="keel.deployment_lookup"):
        lookup: Callable[[Session, str], bool] = ep.load()
        return lookup
    return None


def _own_user(caller: Caller, user: str | None) -> str:
    """The user an operation is about: ``user``, or the caller when none is named."""
    if user is not None:
        if user != caller.name and not caller.is_admin:
            raise PermissionDenied(f"{caller.name} may manage only their own tokens")
        return user
    if caller.user_id is None:
        raise InvalidInput("name the user the token is for (user=...; `keel token create --user NAME`)")
    return caller.name


class TokenService(Service):
    """API tokens: 256 random bits, shown once, stored as a SHA-256 hash, optionally expiring."""

    name = "tokens"

    @operation("POST", "/api/v1/tokens", action=Action.AUTHENTICATED, project=GLOBAL, status_code=201)
    def create(
        self,
        name: TokenName | None = None,
        user: UserName | None = None,
        expires: Duration | None = None,
        scope: Scope | None = None,
        deployment: str | None = None,
    ) -> IssuedToken:
        """Issue a token for a user (yourself by default); its secret is shown this once.

        ``name`` says what it is for (default ``token``, or ``predict-<deployment>``).
        ``expires`` is a duration such as ``30d`` or ``12h``. ``scope="predict"``
        with ``deployment`` makes a serving token that can only call that
        deployment's predict endpoints (admins only).
        """
        caller = current_caller()
        target = _own_user(caller, user)
        name = name or (f"predict-{deployment}" if scope == "predict" else "token")
        expires_at = utcnow() + parse_duration(expires, what="expires") if expires else None
        if scope is None and deployment is not None:
            raise InvalidInput("deployment is only for serving tokens; add scope='predict'")
        if scope == "predict":
            if not deployment:
                raise InvalidInput("a predict-scoped token needs the deployment it may call")
            if not caller.is_admin:
                raise PermissionDenied("only an admin may issue serving (predict) tokens")
        with self.store.write() as session:
            lookup = _deployment_lookup() if deployment is not None else None
            if lookup is not None and deployment is not None and not lookup(session, deployment):
                raise NotFound(
                    f"no deployment named {deployment!r}: a predict token names a deployment that exists",
                    hint="`keel deploy ls` lists them; `keel deploy create` makes one",
                )
            row = find_user(session, target)
            if row.disabled:
                raise Conflict(f"user {target!r} is disabled; enable it before issuing tokens")
            token, secret = issue_token(
                session,
                row.id,
                name,
                created_by=caller.name,
                expires_at=expires_at,
                scope=scope,
                deployment=deployment,
            )
            audit.record(
                session,
                caller,
                "token.issue",
                f"token:{token.id}",
                user=target,
                name=name,
                scope=scope,
                deployment=deployment,
                expires_at=expires_at.isoformat() if expires_at else None,
            )
            return IssuedToken(token=token_schema(token, target), secret=secret)

    @operation("GET", "/api/v1/tokens", action=Action.AUTHENTICATED, project=GLOBAL)
    def ls(self, user: str | None = None, include_revoked: bool = False) -> list[Token]:
        """List tokens: your own, or (admins) one user's or everyone's with ``user``; newest first."""
        caller = current_caller()
        query = (
            select(TokenRow, UserRow.name)
            .join(UserRow, UserRow.id == TokenRow.user_id)
            .order_by(TokenRow.id.desc())
        )
        if user is not None or not caller.is_admin:
            target = _own_user(caller, user)
            query = query.where(UserRow.name == target)
        if not include_revoked:
            query = query.where(TokenRow.revoked_at.is_(None))
        with self.store.read() as session:
            if user is not None:
                find_user(session, user)
            return [token_schema(row, owner) for row, owner in session.execute(query).all()]

    @operation("POST", "/api/v1/tokens/{id}/revoke", action=Action.AUTHENTICATED, project=GLOBAL)
    def revoke(self, id: str) -> Token:
        """Revoke a token (by id or unique id prefix): it stops working everywhere within five seconds.

        Revoking twice is an error. A prefix matches only the caller's own
        tokens (an admin's: everyone's).
        """
        caller = current_caller()
        with self.store.write() as session:
            mine = [] if caller.is_admin else [TokenRow.user_id == caller.user_id]
            id = find_id(session, TokenRow.id, id, "token", where=mine, hint="see `keel token ls`")
            found = session.execute(
                select(TokenRow, UserRow.name)
                .join(UserRow, UserRow.id == TokenRow.user_id)
                .where(TokenRow.id == id)
            ).first()
            if found is None or (not caller.is_admin and found[1] != caller.name):
                raise NotFound(f"no token with id {id!r}", hint="see `keel token ls`")
            row, owner = found[0], found[1]
            if row.revoked_at is not None:
                raise Conflict(f"token {id} was revoked already, at {row.revoked_at:%Y-%m-%d %H:%M:%S} UTC")
            row.revoked_at = utcnow()
            audit.record(session, caller, "token.revoke", f"token:{id}", user=owner, name=row.name)
            result = token_schema(row, owner)
        invalidate(self.ctx)
        return result
