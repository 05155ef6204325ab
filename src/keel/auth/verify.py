"""Verifying a presented token, with a short cache and a throttled last-used stamp.

A verified token is trusted for at most ``ttl`` seconds (capped at five), so
revoking a token or disabling its user takes effect everywhere within five
seconds -- model servers included -- while a busy server still reads the
tokens table about once per token per five seconds, not once per request.
The last-used time is written at most once a minute per token: the UPDATE
itself carries the condition, so several server processes together still
write it at most once a minute.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, select, update

from keel.auth.models import TokenRow, UserRow
from keel.auth.tokens import hash_token, is_well_formed, same_hash
from keel.core.errors import Unauthenticated
from keel.core.operations import Caller
from keel.core.timeutil import utcnow
from keel.store.engine import Store

log = logging.getLogger("keel.auth")

MAX_CACHE_S: Final = 5.0
LAST_USED_EVERY: Final = timedelta(minutes=1)
_CACHE_LIMIT: Final = 10_000


@dataclass(frozen=True)
class _Entry:
    caller: Caller
    expires_at: datetime | None
    checked_at: float


def caller_for(user: UserRow, token: TokenRow) -> Caller:
    """The Caller a token stands for: its user's flags, or only a predict scope for serving tokens."""
    if token.scope == "predict":
        return Caller(
            name=user.name,
            user_id=user.id,
            token_id=token.id,
            scopes=frozenset({f"predict:{token.deployment}"}),
        )
    return Caller(
        name=user.name,
        user_id=user.id,
        is_admin=user.is_admin,
        can_create_projects=user.can_create_projects,
        token_id=token.id,
    )


class TokenVerifier:
    """Turns a bearer token into a Caller, or raises Unauthenticated saying why."""

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        ttl: float = MAX_CACHE_S,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self.ttl = max(0.0, min(float(ttl), MAX_CACHE_S))
        self._clock = clock
        self._now = now
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Forget every cached verification (this process revoked or changed something)."""
        with self._lock:
            self._cache.clear()

    def verify(self, token: str) -> Caller:
        """The caller ``token`` belongs to; Unauthenticated if malformed, unknown, expired or revoked."""
        if not is_well_formed(token):
            raise Unauthenticated("malformed token", hint="tokens look like keel_ and 43 more characters")
        digest = hash_token(token)
        with self._lock:
            entry = self._cache.get(digest)
        if entry is not None and self._clock() - entry.checked_at < self.ttl:
            if entry.expires_at is not None and self._now() >= entry.expires_at:
                raise Unauthenticated("token expired", hint="create a new one with `keel token create`")
            return entry.caller
        caller, expires_at = self._load(digest)
        with self._lock:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[digest] = _Entry(caller, expires_at, self._clock())
        return caller

    def _load(self, digest: str) -> tuple[Caller, datetime | None]:
        store = self._store()
        with store.read() as session:
            found = session.execute(
                select(TokenRow, UserRow)
                .join(UserRow, UserRow.id == TokenRow.user_id)
                .where(TokenRow.token_hash == digest)
            ).first()
            if found is None or not same_hash(found[0].token_hash, digest):
                raise Unauthenticated("unknown token", hint="check KEEL_TOKEN or run `keel login`")
            token, user = found[0], found[1]
            now = self._now()
            if token.revoked_at is not None:
                raise Unauthenticated("token revoked", hint="create a new one with `keel token create`")
            if token.expires_at is not None and now >= token.expires_at:
                raise Unauthenticated("token expired", hint="create a new one with `keel token create`")
            if user.disabled:
                raise Unauthenticated(f"user {user.name} is disabled")
            caller = caller_for(user, token)
            stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY
            token_id, expires_at = token.id, token.expires_at
        if stale:
            self._touch(store, token_id, now)
        return caller, expires_at

    def _touch(self, store: Store, token_id: str, now: datetime) -> None:
        """Stamp last-used, unless another process did within the minute; never fails the request."""
        try:
            with store.write() as session:
                session.execute(
                    update(TokenRow)
                    .where(
                        TokenRow.id == token_id,
                        or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at <= now - LAST_USED_EVERY),
                    )
                    .values(last_used_at=now)
                )
        except Exception as exc:  # the stamp is bookkeeping; a busy database must not refuse the caller
            log.warning("could not record token last-used time: %s", exc.__class__.__name__)
