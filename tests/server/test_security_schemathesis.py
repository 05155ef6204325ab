"""Schemathesis against the server's own /openapi.json, with an admin token and with none.

Generated requests (valid and invalid) must never get a 500, and every answer
must have a status the spec declares, the declared content type and a body
matching the declared schema. Kept bounded (few examples per operation)
because the whole suite must stay fast; it is marked slow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from keel.testing.auth import AuthWorld

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> AuthWorld:
    w = AuthWorld(Path(tmp_path_factory.mktemp("fuzz")), auth_failures_per_minute=0)
    w.project("churn")
    return w


def _fuzz(world: AuthWorld, headers: dict[str, str], examples: int) -> int:
    """Run every operation of the spec on generated cases; returns how many operations ran."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    ran = 0
    for result in schema.get_all_operations():
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
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            if not headers and case.path not in PUBLIC:
                assert response.status_code in (401, 404, 405, 413, 422), (case.method, case.path)

        run()
        ran += 1
    return ran


PUBLIC = ("/api/v1/health", "/api/v1/version")


@pytest.mark.slow
def test_api_with_an_admin_token(world: AuthWorld) -> None:
    assert _fuzz(world, {"Authorization": f"Bearer {world.admin_token}"}, examples=6) >= 20


@pytest.mark.slow
def test_api_without_a_token(world: AuthWorld) -> None:
    assert _fuzz(world, {}, examples=3) >= 20
