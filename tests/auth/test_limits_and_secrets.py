"""Boundaries and exact answers of the auth helpers: the failure limiter's window and eviction,
duration limits, token shape, log redaction, and the verifier's messages, cache and last-used
stamp (survivors of the mutation run over ``keel.auth``, issue 10.13)."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from keel.auth import redact, tokens, verify
from keel.auth.durations import MAX_SECONDS, parse_duration
from keel.auth.issue import issue_token
from keel.auth.models import TokenRow, UserRow
from keel.auth.ratelimit import FailureLimiter
from keel.auth.verify import LAST_USED_EVERY, TokenVerifier, caller_for
from keel.context import Context
from keel.core.errors import InvalidInput, TooManyRequests, Unauthenticated
from keel.core.ids import new_id
from keel.testing.fixtures import new_workspace

# --- the failure limiter --------------------------------------------------------------------


class Clock:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_the_defaults_are_twenty_failures_a_minute_for_ten_thousand_clients() -> None:
    clock = Clock(1000.0)
    limiter = FailureLimiter(clock=clock)
    assert (limiter.limit, limiter.window_s, limiter.max_clients) == (20, 60.0, 10_000)
    for _ in range(19):
        limiter.failed("c")
    assert limiter.retry_after("c") is None
    limiter.failed("c")
    assert limiter.retry_after("c") == 60


def test_a_failure_exactly_one_window_old_no_longer_counts() -> None:
    clock = Clock(100.0)  # not zero: now + first failure would pass for a window-old failure
    limiter = FailureLimiter(2, 60.0, clock=clock)
    limiter.failed("c")
    clock.now = 101.0
    limiter.failed("c")
    assert limiter.retry_after("c") == 60  # two within the window: limited for one from the second
    other = FailureLimiter(2, 60.0, clock=clock)
    clock.now = 100.0
    other.failed("d")
    clock.now = 160.0  # exactly one window later: the first failure has expired
    other.failed("d")
    assert other.retry_after("d") is None


def test_retry_after_counts_whole_seconds_up_and_ends_with_the_window() -> None:
    clock = Clock(500.0)
    limiter = FailureLimiter(1, 10.0, clock=clock)
    limiter.failed("c")  # a limit of one: the first failure limits
    clock.now = 509.5
    assert limiter.retry_after("c") == 1
    clock.now = 505.2
    assert limiter.retry_after("c") == 5
    with pytest.raises(TooManyRequests) as caught:
        limiter.check("c")
    assert caught.value.message == "too many failed sign-ins from c; try again in 5 s"
    clock.now = 510.0
    assert limiter.retry_after("c") is None


def test_a_limit_of_zero_turns_limiting_off() -> None:
    limiter = FailureLimiter(0, 60.0, clock=Clock())
    for _ in range(5):
        limiter.failed("c")
    assert limiter.retry_after("c") is None and not limiter._failures


def test_the_stalest_clients_are_forgotten_first() -> None:
    clock = Clock(0.0)
    failures = FailureLimiter(2, 60.0, max_clients=2, clock=clock)
    for client in ("a", "b", "c"):
        failures.failed(client)  # a is dropped to make room for c
    failures.failed("a")
    assert failures.retry_after("a") is None and list(failures._failures) == ["c", "a"]
    limited = FailureLimiter(1, 60.0, max_clients=2, clock=clock)
    limited.failed("a")
    limited.failed("b")
    assert limited.retry_after("a") == 60 and limited.retry_after("b") == 60  # two fit
    limited.failed("c")
    assert limited.retry_after("a") is None and limited.retry_after("c") == 60


# --- durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0s", "duration '0s' must be longer than zero"),
        ("30x", "duration '30x' is not a duration; write a number and a unit s, m, h, d or w, e.g. 30d"),
        ("3651d", "duration '3651d' is longer than ten years"),
    ],
)
def test_durations_refused_by_exact_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_duration(text)
    assert caught.value.message == message
    with pytest.raises(InvalidInput, match=f"^expiry {text!r}"):
        parse_duration(text, what="expiry")


def test_the_shortest_and_longest_durations_are_taken() -> None:
    assert parse_duration("1s") == timedelta(seconds=1)
    assert parse_duration("3650d") == timedelta(seconds=MAX_SECONDS)
    assert parse_duration(" 2 w ") == timedelta(weeks=2)


# --- token secrets and redaction ----------------------------------------------------------------


def _record(msg: str = "m", args: Any = None, exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, "x", 1, msg, args, exc_info)


def test_redaction_masks_mapping_arguments_and_tracebacks() -> None:
    secret = tokens.generate_token()
    flt = redact.RedactingFilter()
    record = _record(msg="%(who)s used %(token)s", args=({"who": "ada", "token": secret, "n": 3},))
    flt.filter(record)
    assert record.args == {"who": "ada", "token": "keel_****", "n": 3}
    assert record.getMessage() == "ada used keel_****"
    try:
        raise RuntimeError(f"bad token {secret}")
    except RuntimeError:
        traced = _record(exc_info=sys.exc_info())
    flt.filter(traced)
    assert traced.exc_info is None and traced.exc_text is not None
    assert secret not in traced.exc_text and "bad token keel_****" in traced.exc_text
    texted = _record()
    texted.exc_text = f"Traceback: Bearer {secret}"
    flt.filter(texted)
    assert texted.exc_text == "Traceback: Bearer ****"


def test_install_redaction_filters_the_named_loggers_and_their_handlers_once() -> None:
    logger = logging.getLogger("keel-test-redaction")
    handler = logging.Handler()
    logger.addHandler(handler)
    try:
        flt = redact.install_redaction("keel-test-redaction")
        assert flt in logger.filters and flt in handler.filters
        again = redact.install_redaction("keel-test-redaction")
        assert again is not flt and logger.filters.count(again) == 1
        root = redact.install_redaction()
        assert root in logging.getLogger().filters
    finally:
        logger.removeHandler(handler)
        logger.filters.clear()
        logging.getLogger().filters[:] = [
            f for f in logging.getLogger().filters if not isinstance(f, redact.RedactingFilter)
        ]


# --- the verifier -------------------------------------------------------------------------------


class Times:
    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def tokens_world(tmp_path: Path) -> Any:
    ctx = Context(new_workspace(tmp_path / "ws"))
    times = Times()
    made: dict[str, tuple[str, str]] = {}
    with ctx.store.write() as session:
        for name, admin in (("alice", False), ("bob", True)):
            uid = new_id()
            session.add(
                UserRow(
                    id=uid,
                    name=name,
                    email=None,
                    is_admin=admin,
                    can_create_projects=not admin,
                    disabled=False,
                    created_at=times.wall,
                    updated_at=times.wall,
                )
            )
            session.flush()
            row, secret = issue_token(
                session, uid, "t", created_by="test", expires_at=times.wall + timedelta(hours=1)
            )
            made[name] = (row.id, secret)
        row, secret = issue_token(
            session, uid, "p", created_by="test", scope="predict", deployment="churn-prod"
        )
        made["serving"] = (row.id, secret)
    return ctx, times, made


def _verifier(ctx: Any, times: Times, ttl: float = 5.0) -> TokenVerifier:
    return TokenVerifier(lambda: ctx.store, ttl=ttl, clock=lambda: times.mono, now=lambda: times.wall)


def test_each_token_stands_for_its_own_user(tokens_world: Any) -> None:
    ctx, times, made = tokens_world
    verifier = _verifier(ctx, times)
    alice, bob, serving = (verifier.verify(made[n][1]) for n in ("alice", "bob", "serving"))
    assert (alice.name, alice.is_admin, alice.can_create_projects, alice.token_id) == (
        "alice",
        False,
        True,
        made["alice"][0],
    )
    assert (bob.name, bob.is_admin, bob.can_create_projects, bob.token_id) == (
        "bob",
        True,
        False,
        made["bob"][0],
    )
    assert alice.user_id != bob.user_id and alice.user_id is not None
    assert (serving.name, serving.user_id, serving.token_id) == ("bob", bob.user_id, made["serving"][0])
    assert serving.scopes == frozenset({"predict:churn-prod"}) and not serving.is_admin


@pytest.mark.parametrize(
    ("change", "message", "hint"),
    [
        ("malformed", "malformed token", "tokens look like keel_ and 43 more characters"),
        ("unknown", "unknown token", "check KEEL_TOKEN or run `keel login`"),
        ("revoked", "token revoked", "create a new one with `keel token create`"),
        ("expired", "token expired", "create a new one with `keel token create`"),
    ],
)
def test_refusals_say_exactly_why(tokens_world: Any, change: str, message: str, hint: str) -> None:
    ctx, times, made = tokens_world
    token_id, secret = made["alice"]
    if change == "malformed":
        secret = "keel_short"
    elif change == "unknown":
        secret = tokens.generate_token()
    else:
        with ctx.store.write() as session:
            row = session.get(TokenRow, token_id)
            if change == "revoked":
                row.revoked_at = times.wall
            else:
                row.expires_at = times.wall  # expiring at this very instant is expired
    with pytest.raises(Unauthenticated) as caught:
        _verifier(ctx, times).verify(secret)
    assert (caught.value.message, caught.value.hint) == (message, hint)


def test_a_cached_token_expires_on_the_dot_with_the_same_answer(tokens_world: Any) -> None:
    ctx, times, made = tokens_world
    verifier = _verifier(ctx, times)
    with ctx.store.write() as session:
        session.get(TokenRow, made["alice"][0]).expires_at = times.wall + timedelta(seconds=2)
    verifier.verify(made["alice"][1])
    times.wall += timedelta(seconds=2)
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(made["alice"][1])
    assert (caught.value.message, caught.value.hint) == (
        "token expired",
        "create a new one with `keel token create`",
    )


def test_a_ttl_of_zero_never_caches(tokens_world: Any) -> None:
    ctx, times, made = tokens_world
    verifier = _verifier(ctx, times, ttl=0)
    assert verifier.ttl == 0
    verifier.verify(made["alice"][1])
    with ctx.store.write() as session:
        session.get(TokenRow, made["alice"][0]).revoked_at = times.wall
    with pytest.raises(Unauthenticated, match="token revoked"):
        verifier.verify(made["alice"][1])  # the same instant: a cache of any length would still pass it


def test_the_cache_is_emptied_when_it_reaches_its_limit(
    tokens_world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx, times, made = tokens_world
    monkeypatch.setattr(verify, "_CACHE_LIMIT", 2)
    verifier = _verifier(ctx, times)
    verifier.verify(made["alice"][1])
    assert len(verifier._cache) == 1
    verifier.verify(made["bob"][1])
    assert len(verifier._cache) == 2
    verifier.verify(made["serving"][1])  # the third: the two before are dropped first
    assert list(verifier._cache) == [tokens.hash_token(made["serving"][1])]


def _last_used(ctx: Any) -> dict[str, datetime | None]:
    with ctx.store.read() as session:
        return {r.id: r.last_used_at for r in session.execute(select(TokenRow)).scalars()}


def test_last_used_is_stamped_on_the_token_used_at_most_once_a_minute(tokens_world: Any) -> None:
    ctx, times, made = tokens_world
    _verifier(ctx, times).verify(made["alice"][1])
    stamped = _last_used(ctx)
    assert stamped[made["alice"][0]] == times.wall
    assert stamped[made["bob"][0]] is None and stamped[made["serving"][0]] is None  # only the token used
    verifier = _verifier(ctx, times)
    later = times.wall + LAST_USED_EVERY - timedelta(seconds=1)
    verifier._touch(ctx.store, made["alice"][0], later)  # another process stamped it within the minute
    assert _last_used(ctx)[made["alice"][0]] == times.wall
    verifier._touch(ctx.store, made["alice"][0], times.wall + LAST_USED_EVERY)
    assert _last_used(ctx)[made["alice"][0]] == times.wall + LAST_USED_EVERY


def test_a_failed_stamp_is_logged_and_never_refuses(
    tokens_world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ctx, times, made = tokens_world

    class Broken:
        def write(self) -> Any:
            raise OSError("disk full")

    verifier = _verifier(ctx, times)
    with caplog.at_level(logging.WARNING, logger="keel.auth"):
        verifier._touch(Broken(), made["alice"][0], times.wall)  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == ["could not record token last-used time: OSError"]


def test_caller_for_a_serving_token_carries_only_the_predict_scope(tokens_world: Any) -> None:
    ctx, _, made = tokens_world
    with ctx.store.read() as session:
        token = session.get(TokenRow, made["serving"][0])
        user = session.get(UserRow, token.user_id)
        caller = caller_for(user, token)
    assert caller.scopes == frozenset({"predict:churn-prod"}) and caller.token_id == token.id
