"""Token guessing (issue 11.11): a limited address is refused before any token is verified, until
the window passes; other addresses are not affected; X-Forwarded-For counts only from trusted proxies.

Before the fix, an address over its limit got 429 for each wrong guess, yet
every guess was still checked (352/s) and a right one answered 200.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.auth.ratelimit import FailureLimiter
from keel.auth.tokens import generate_token
from keel.context import Context
from keel.core.errors import ConfigError, TooManyRequests
from keel.server import create_app
from keel.testing.auth import AuthWorld

PROXY = "10.0.0.1"


def _from(world: AuthWorld, address: str, token: str | None = None, **headers: str) -> TestClient:
    client = TestClient(world.app, raise_server_exceptions=False, client=(address, 40000))
    if token:
        client.headers["Authorization"] = f"Bearer {token}"
    client.headers.update(headers)
    return client


def _count_verifications(world: AuthWorld, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    verify = world.ctx.authorizer.verify_token  # type: ignore[attr-defined]

    def counting(token: str) -> Any:
        seen.append(token)
        return verify(token)

    monkeypatch.setattr(world.ctx.authorizer, "verify_token", counting)
    return seen


def test_a_limited_address_is_refused_before_its_token_is_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = AuthWorld(tmp_path / "w", auth_failures_per_minute=3)
    right = world.user("alice")  # a valid token that this server has not seen used yet
    verified = _count_verifications(world, monkeypatch)
    attacker = "192.0.2.7"
    codes = [_from(world, attacker, generate_token()).get("/api/v1/projects").status_code for _ in range(3)]
    assert codes == [401, 401, 401] and len(verified) == 3
    for guess in (generate_token(), right, None):
        refused = _from(world, attacker, guess).get("/api/v1/projects")
        assert refused.status_code == 429, guess
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert len(verified) == 3  # none of the guesses made while limited was checked
    # another address, with a valid token or a wrong one, is not affected
    assert _from(world, "192.0.2.8", right).get("/api/v1/whoami").json()["name"] == "alice"
    assert _from(world, "192.0.2.9", generate_token()).get("/api/v1/projects").status_code == 401
    # a token this server just verified passes the gate, and is still verified: a revoked one fails
    assert _from(world, attacker, right).get("/api/v1/whoami").status_code == 200
    world.local.users.edit(name="alice", disabled=True)
    world.ctx.authorizer.invalidate()  # type: ignore[attr-defined]
    assert _from(world, attacker, right).get("/api/v1/whoami").status_code == 401
    assert _from(world, attacker, right).get("/api/v1/whoami").status_code == 429


def test_the_limit_lasts_one_window_then_the_slate_is_clean() -> None:
    now = [0.0]
    limiter = FailureLimiter(2, 60.0, clock=lambda: now[0])
    limiter.failed("a")
    now[0] = 50.0
    limiter.failed("a")  # the second failure within 60 s: limited until 110
    now[0] = 100.0  # the first failure aged out, but the address stays limited a whole window
    with pytest.raises(TooManyRequests) as info:
        limiter.check("a")
    assert info.value.details["retry_after"] == 10
    now[0] = 110.0
    limiter.check("a")
    limiter.failed("a")  # one failure after the window does not limit again at once
    limiter.check("a")


def test_a_limiter_of_zero_never_limits() -> None:
    limiter = FailureLimiter(0, 60.0)
    for _ in range(100):
        limiter.failed("a")
    limiter.check("a")


def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    world = AuthWorld(
        tmp_path / "w", auth_failures_per_minute=2, server_trusted_proxies=f"{PROXY},10.9.0.0/16"
    )
    right = world.user("bob")
    for _ in range(2):
        assert (
            _from(world, PROXY, generate_token(), **{"X-Forwarded-For": "198.51.100.1"})
            .get("/api/v1/projects")
            .status_code
            == 401
        )
    via_proxy = _from(world, "10.9.3.4", generate_token(), **{"X-Forwarded-For": "198.51.100.1"})
    assert via_proxy.get("/api/v1/projects").status_code == 429  # the guesser behind the proxies
    # other callers behind the same proxy keep their own address
    other = _from(world, PROXY, right, **{"X-Forwarded-For": "198.51.100.2"})
    assert other.get("/api/v1/whoami").status_code == 200
    # a caller that is not a trusted proxy cannot pick its address with the header
    for i in range(3):
        spoof = _from(world, "203.0.113.5", generate_token(), **{"X-Forwarded-For": f"198.51.100.{10 + i}"})
        codes = spoof.get("/api/v1/projects").status_code
    assert codes == 429


@pytest.mark.parametrize("value", ["not-an-ip", "*", "10.0.0.1/8", "10.0.0.1,,example.com"])
def test_a_bad_trusted_proxies_setting_is_refused_by_name(tmp_path: Path, value: str) -> None:
    world = AuthWorld(tmp_path / "w")
    settings = world.settings.values | {"server_trusted_proxies": value}
    bad = type(world.settings)(values=settings, sources=world.settings.sources, config_tables={})
    with pytest.raises(ConfigError, match="server_trusted_proxies"):
        create_app(Context(bad), auth=True)
