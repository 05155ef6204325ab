"""No 500 on any input (issue 11.7): what databases cannot store is a 422 naming the field, up front.

Before: steps or timestamps >= 2^63, NUL in a param value, tag, project name or
filter, and JSON nested 1,000 deep each answered 500 (an overflow or a NUL
inside the INSERT, a RecursionError in the first JSON parse). Each case here
must answer 422, name the field, and change nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from keel.core.edge import INT64_MAX, MAX_DEPTH, check_plain, edge_checked
from keel.server.depth import MAX_BODY_DEPTH, max_depth, too_deep
from keel.testing.auth import AuthWorld


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> AuthWorld:
    w = AuthWorld(Path(tmp_path_factory.mktemp("badinput")))
    w.project("churn")
    return w


@pytest.fixture(scope="module")
def run_id(world: AuthWorld) -> str:
    return str(world.client(world.admin_token).runs.create(project="churn", params={"lr": 0.1}).id)


def _deep(n: int) -> str:
    return "[" * n + "]" * n


BAD_BATCHES = [
    ({"metrics": [["m", 1.0, 2**63, 1]]}, "metrics.0.2"),
    ({"metrics": [["m", 1.0, 1, 2**63]]}, "metrics.0.3"),
    ({"metrics": [["m", 1.0, -(2**63) - 1, 1]]}, "metrics.0.2"),
    ({"series": {"m": [[2**64], [1], [1.0]]}}, "series.m.0.0"),
    ({"params": {"p": 2**70}}, "params.p"),
    ({"params": {"p": {"nested": [2**64]}}}, "params.p"),
    ({"params": {"p": "a\u0000b"}}, "param 'p'"),  # tracking words NUL in its own values
    ({"tags": {"t": "a\u0000b"}}, "tag 't'"),
    ({"tags": {"t\u0000": "b"}}, "tag key"),
    ({"metrics": [["m\u0000", 1.0, 1, 1]]}, "metric key"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BATCHES)
def test_a_batch_the_database_cannot_store_is_422_naming_the_field(
    world: AuthWorld, run_id: str, body: dict[str, Any], field: str
) -> None:
    http = world.http(world.admin_token)
    before = http.get(f"/api/v1/runs/{run_id}").json()
    response = http.post(f"/api/v1/runs/{run_id}/batch", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"
    assert field in response.json()["error"]["message"]
    after = http.get(f"/api/v1/runs/{run_id}").json()
    assert (after["params"], after["tags"], after["metrics"]) == (
        before["params"],
        before["tags"],
        before["metrics"],
    )


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("POST", "/api/v1/projects", {"name": "a\u0000b"}, "name"),
        ("POST", "/api/v1/runs", {"project": "churn", "environment": {"k": "a\u0000"}}, "environment"),
        ("POST", "/api/v1/runs", {"project": "churn", "environment": {"k": [0, 2**70]}}, "at k.1"),
        ("POST", "/api/v1/runs", {"project": "churn", "name": "a\u0000"}, "run name"),
        ("POST", "/api/v1/runs/search", {"project": "churn", "filter": "params.p = 'a\u0000'"}, "NUL"),
        ("POST", "/api/v1/runs/search", {"project": "churn", "order_by": ["metrics.a\u0000"]}, "NUL"),
        (
            "POST",
            "/api/v1/runs/search",
            {"project": "churn", "filter": "attributes.start_time > 99999999999999999999"},
            "start_time",
        ),
        ("GET", "/api/v1/projects?page_token=a%00", None, "page token"),
        ("GET", "/api/v1/projects?limit=99999999999999999999", None, "limit"),
    ],
)
def test_nul_and_overflow_anywhere_is_422_naming_the_field(
    world: AuthWorld, method: str, url: str, body: Any, field: str
) -> None:
    http = world.http(world.admin_token)
    runs_before = http.post("/api/v1/runs/search", json={"project": "churn"}).json()["items"]
    response = http.request(method, url, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]
    assert http.post("/api/v1/runs/search", json={"project": "churn"}).json()["items"] == runs_before


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"params": ' + _deep(1000) + "}", "params.0.0.0.0.0"),
        ('{"project": "churn", "environment": {"a": ' + _deep(1000) + "}}", "environment.a.0.0.0.0"),
        (_deep(1000), "0.0.0.0.0.0"),
        ('{"project": "churn", "environment": {"a": ' + _deep(MAX_DEPTH) + "}}", "at a.0.0"),
    ],
)
def test_json_nested_too_deep_is_422_naming_the_field(world: AuthWorld, content: str, field: str) -> None:
    http = world.http(world.admin_token, **{"Content-Type": "application/json"})
    # 1,000 deep is refused before parsing on any route; one level past the limit for free-form
    # JSON is refused by the operation's input model
    urls = (
        ("/api/v1/runs", "/api/v1/projects")
        if "1000" in field or content.count("[") > 100
        else ("/api/v1/runs",)
    )
    for url in urls:
        response = http.post(url, content=content)
        assert response.status_code == 422, response.text
        assert field in response.json()["error"]["message"]


def test_nesting_up_to_the_limit_is_accepted(world: AuthWorld) -> None:
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH - 1):  # with the environment's own object, MAX_DEPTH levels
        deep = [deep]
    run = world.http(world.admin_token).post(
        "/api/v1/runs", json={"project": "churn", "environment": {"deep": deep}}
    )
    assert run.status_code == 201, run.text


def test_depth_ignores_brackets_inside_strings() -> None:
    text = json.dumps({"a": "[" * 5000, "b": [[1], {"c": "]]]}}"}]}).encode()
    assert max_depth(text) == 3
    assert too_deep(text) is None
    assert too_deep(b"") is None
    assert too_deep(b"[" * (MAX_BODY_DEPTH + 1)) == "0.0.0.0.0.0"


class _Model(BaseModel):
    text: str


def test_edge_checked_adds_the_database_limits_everywhere() -> None:
    def refuses(tp: Any, value: Any) -> bool:
        try:
            TypeAdapter(edge_checked(tp)).validate_python(value)
        except ValidationError:
            return True
        return False

    assert refuses(int, INT64_MAX + 1) and not refuses(int, INT64_MAX)
    assert refuses(list[tuple[str, int]], [("k", 2**64)])
    assert refuses(dict[str, Any], {"a": {"b": ["c\x00"]}})
    assert refuses(dict[str, Any], {"a\x00": 1})
    assert refuses(int | None, 2**64) and not refuses(int | None, None)
    assert refuses(int | float | str, 2**70) and not refuses(int | float | str, 1.5e300)
    assert not refuses(int | float | str, "\x00")  # the capability words NUL in its own values
    assert not refuses(str, "a\x00")  # plain text: the capability's checks, then the store's net
    assert refuses(_Model, {"text": "\x00"})
    # a declared constraint is kept, never replaced
    bounded = Annotated[int, Field(ge=1, le=10)]
    assert refuses(bounded, 11) and not refuses(bounded, 5)
    assert TypeAdapter(edge_checked(int)).json_schema()["maximum"] == INT64_MAX


def test_check_plain_bounds_free_form_json() -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH):
        nested = [nested]
    assert check_plain(nested) is nested
    with pytest.raises(ValueError, match="deeper than"):
        check_plain([nested])
    with pytest.raises(ValueError, match="64 bits"):
        check_plain({"a": [-(2**63) - 1]})
    assert check_plain({"a": [True, 1.5, None, "x"]}) == {"a": [True, 1.5, None, "x"]}


def test_405_names_every_method_of_the_path_in_allow(world: AuthWorld) -> None:
    response = world.http(world.admin_token).put("/api/v1/projects")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert "allowed: GET, POST" in response.json()["error"]["message"]
