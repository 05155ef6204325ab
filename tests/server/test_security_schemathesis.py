"""Schemathesis against the server's own /openapi.json (issue 11.7): no 5xx, no answer off the spec.

Stateless: every operation on generated cases, as an editor and a viewer of
a project, and with no token (as the admin, with positive-data acceptance and
negative-data rejection too: ``test_spec_constraints.py``). Stateful: a
state machine that follows the links Schemathesis infers between operations
(create a project, then read it, ...), as the admin. Token revocation is left
out (it would sign the fuzzer out). Every answer must be no 5xx and have a
status the spec declares, the declared content type and a body matching the
declared schema. Bounded (a few examples per operation, a few steps per
sequence) so the run stays within a few minutes; marked slow.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keel.testing.auth import AuthWorld

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Left out: it would revoke the very token the fuzzer signs in with.
EXCLUDED = ("tokens.revoke",)
PUBLIC = ("/api/v1/health", "/api/v1/version")


class Tally:
    """Cases sent and 5xx seen, for the report."""

    cases = 0
    server_errors = 0


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> AuthWorld:
    w = AuthWorld(Path(tmp_path_factory.mktemp("fuzz")), auth_failures_per_minute=0)
    w.project("churn")
    return w


@pytest.fixture(scope="module")
def tokens(world: AuthWorld) -> dict[str, str]:
    return {
        "admin": world.admin_token,
        "editor": world.user("fuzz-editor", role="editor", project="churn"),
        "viewer": world.user("fuzz-viewer", role="viewer", project="churn"),
    }


def _schema(world: AuthWorld) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", world.app).exclude(operation_id=list(EXCLUDED))


def _fuzz(world: AuthWorld, headers: dict[str, str], examples: int) -> int:
    """Run every operation of the spec on generated cases; returns how many operations ran."""
    ran = 0
    for result in _schema(world).get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            Tally.cases += 1
            Tally.server_errors += response.status_code >= 500
            case.validate_response(response, checks=CHECKS)
            if not headers and case.path not in PUBLIC:
                assert response.status_code in (401, 404, 405, 413, 422), (case.method, case.path)

        run()
        ran += 1
    return ran


@pytest.mark.slow
# The admin runs every operation in test_spec_constraints.py, with these checks and the positive
# and negative data checks besides; here the lesser roles.
@pytest.mark.parametrize(("role", "examples"), [("editor", 2), ("viewer", 2)])
def test_api_with_each_role(world: AuthWorld, tokens: dict[str, str], role: str, examples: int) -> None:
    headers = {"Authorization": f"Bearer {tokens[role]}"}
    assert _fuzz(world, headers, examples=examples) >= 20


@pytest.mark.slow
@pytest.mark.postgres
def test_api_as_admin_on_postgres(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL refuses what SQLite stores (NUL text, int64 overflow): the same spec, no 5xx."""
    pg = AuthWorld(tmp_path / "pg", auth_failures_per_minute=0, db_url=postgres_url)
    pg.project("churn-pg")
    assert _fuzz(pg, {"Authorization": f"Bearer {pg.admin_token}"}, examples=3) >= 20


@pytest.mark.slow
def test_api_without_a_token(world: AuthWorld) -> None:
    assert _fuzz(world, {}, examples=2) >= 20


@pytest.mark.slow
def test_api_stateful_as_admin(tmp_path: Path) -> None:
    # A fresh server of its own: the stateless runs above leave state behind.
    world = AuthWorld(tmp_path / "stateful", auth_failures_per_minute=0)
    world.project("churn")
    machine = _schema(world).as_state_machine()
    headers = {"Authorization": f"Bearer {world.admin_token}"}
    failures: list[str] = []
    steps = 0

    class Keel(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            # Every answer is checked and a failure recorded, never raised: a raise would make
            # Hypothesis replay the sequence to shrink it, and a sequence against a live server
            # (fresh ids and times in every answer) cannot be replayed exactly.
            nonlocal steps
            steps += 1
            Tally.cases += 1
            Tally.server_errors += response.status_code >= 500
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as exc:  # schemathesis raises a group of check failures
                failures.append(f"{case.method} {case.path} -> {response.status_code}: {exc}"[:600])

    # Links draw on earlier answers (bundles); when the server answers a replayed step
    # differently, Hypothesis stops generating. The answers seen so far were all checked.
    with contextlib.suppress(FlakyStrategyDefinition):
        Keel.run(
            settings=settings(
                max_examples=15,
                stateful_step_count=6,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
        )
    print(f"\nschemathesis: {Tally.cases} cases so far in this module, {Tally.server_errors} answered 5xx")
    assert steps >= 10, f"the state machine ran only {steps} steps"
    assert failures == [], "\n".join(failures)
    assert Tally.server_errors == 0
