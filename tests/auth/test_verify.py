"""Verification: cached at most 5 s, revocation/disable/expiry honoured, last-used at most once a minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keel.auth.issue import issue_token
from keel.auth.models import TokenRow, UserRow
from keel.auth.verify import TokenVerifier
from keel.context import Context
from keel.core.errors import Unauthenticated
from keel.core.ids import new_id
from keel.testing.fixtures import new_workspace


class Clock:
    """A monotonic clock and a wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)

    def tick(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def world(tmp_path: Path) -> Any:
    ctx = Context(new_workspace(tmp_path / "ws"))
    clock = Clock()
    verifier = TokenVerifier(lambda: ctx.store, ttl=5.0, clock=lambda: clock.mono, now=lambda: clock.wall)
    with ctx.store.write() as session:
        user = UserRow(
            id=new_id(),
            name="alice",
            email=None,
            is_admin=False,
            can_create_projects=True,
            disabled=False,
            created_at=clock.wall,
            updated_at=clock.wall,
        )
        session.add(user)
        session.flush()
        row, secret = issue_token(
            session, user.id, "laptop", created_by="test", expires_at=clock.wall + timedelta(hours=1)
        )
        token_id, user_id = row.id, user.id

    class World:
        pass

    w = World()
    w.ctx, w.clock, w.verifier, w.secret, w.token_id, w.user_id = (  # type: ignore[attr-defined]
        ctx,
        clock,
        verifier,
        secret,
        token_id,
        user_id,
    )
    return w


def _set(w: Any, model: Any, row_id: str, **values: Any) -> None:
    with w.ctx.store.write() as session:
        row = session.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)


def _last_used(w: Any) -> datetime | None:
    with w.ctx.store.read() as session:
        return session.execute(select(TokenRow.last_used_at).where(TokenRow.id == w.token_id)).scalar_one()


def test_valid_token_gives_its_user(world: Any) -> None:
    caller = world.verifier.verify(world.secret)
    assert caller.name == "alice" and caller.user_id == world.user_id
    assert caller.can_create_projects and not caller.is_admin and caller.token_id == world.token_id


def test_revocation_applies_once_the_cache_ages_out(world: Any) -> None:
    world.verifier.verify(world.secret)
    _set(world, TokenRow, world.token_id, revoked_at=world.clock.wall)
    world.clock.tick(4.9)
    assert world.verifier.verify(world.secret).name == "alice"  # still inside the 5 s window
    world.clock.tick(0.2)
    with pytest.raises(Unauthenticated, match="revoked"):
        world.verifier.verify(world.secret)


def test_invalidate_applies_revocation_at_once(world: Any) -> None:
    world.verifier.verify(world.secret)
    _set(world, TokenRow, world.token_id, revoked_at=world.clock.wall)
    world.verifier.invalidate()
    with pytest.raises(Unauthenticated, match="revoked"):
        world.verifier.verify(world.secret)


def test_disabled_user_is_refused_within_the_window(world: Any) -> None:
    world.verifier.verify(world.secret)
    _set(world, UserRow, world.user_id, disabled=True)
    world.clock.tick(5.0)
    with pytest.raises(Unauthenticated, match="disabled"):
        world.verifier.verify(world.secret)


def test_expiry_is_honoured_even_from_the_cache(world: Any) -> None:
    world.verifier.verify(world.secret)
    world.clock.wall += timedelta(hours=1)  # wall time jumps; the cache entry is still fresh
    with pytest.raises(Unauthenticated, match="expired"):
        world.verifier.verify(world.secret)


def test_unknown_forged_and_malformed_tokens(world: Any) -> None:
    forged = world.secret[:-4] + ("AAAA" if not world.secret.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthenticated, match="unknown token"):
        world.verifier.verify(forged)
    with pytest.raises(Unauthenticated, match="malformed"):
        world.verifier.verify("not-a-token")


def test_cache_is_capped_at_five_seconds() -> None:
    assert TokenVerifier(lambda: None, ttl=60).ttl == 5.0  # type: ignore[arg-type, return-value]


def test_last_used_is_written_at_most_once_a_minute(world: Any) -> None:
    world.verifier.verify(world.secret)
    first = _last_used(world)
    assert first == world.clock.wall
    for _ in range(11):  # 55 s of requests, re-read from the database every 5 s
        world.clock.tick(5.0)
        world.verifier.verify(world.secret)
    assert _last_used(world) == first
    world.clock.tick(5.0)
    world.verifier.verify(world.secret)
    assert _last_used(world) == world.clock.wall


def test_serving_token_carries_only_its_predict_scope(world: Any) -> None:
    with world.ctx.store.write() as session:
        _, secret = issue_token(
            session, world.user_id, "svc", created_by="t", scope="predict", deployment="churn-prod"
        )
    caller = world.verifier.verify(secret)
    assert caller.scopes == frozenset({"predict:churn-prod"})
    assert not caller.is_admin and not caller.can_create_projects
