"""The UI in process: sign-in and sessions, CSRF, access rules, and the tracking pages against their JSON twins."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from keel.testing.auth import AuthWorld

from .conftest import csrf_of, expire, sign_in


def test_root_is_the_ui_and_every_page_needs_a_session(world: AuthWorld) -> None:
    http = TestClient(world.app, raise_server_exceptions=False)
    assert http.get("/", follow_redirects=False).headers["location"] == "/ui/"
    for path in ("/ui/", "/ui/p/churn", "/ui/p/churn/runs", f"/ui/runs/{world.seeded['runs'][0]}"):  # type: ignore[attr-defined]
        response = http.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/signin?next=")
        assert "churn" not in response.text and "run-0" not in response.text
    series = http.get(f"/ui/runs/{world.seeded['runs'][0]}/series?key=loss")  # type: ignore[attr-defined]
    assert series.status_code == 401 and series.json()["error"]["message"] == "sign in again"
    # the REST API is untouched: still bearer tokens, still JSON
    assert http.get("/api/v1/projects").status_code == 401
    assert http.get("/api/v1/health").json()["status"] == "ok"


def test_sign_in_sets_an_httponly_samesite_cookie_secure_over_https(world: AuthWorld) -> None:
    http = TestClient(world.app, raise_server_exceptions=False)
    form = http.get("/ui/signin")
    response = http.post(
        "/ui/signin",
        data={"csrf": csrf_of(form.text), "token": world.admin_token, "next": "/ui/p/churn"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/p/churn"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("keel_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    secure = sign_in(world, world.admin_token, base_url="https://testserver")
    assert secure.cookies.get("keel_session")
    https_form = TestClient(world.app, base_url="https://testserver").get("/ui/signin")
    https_post = TestClient(world.app, base_url="https://testserver").post(
        "/ui/signin",
        data={"csrf": csrf_of(https_form.text), "token": world.admin_token},
        cookies=https_form.cookies,
        follow_redirects=False,
    )
    assert any(
        "Secure" in c for c in https_post.headers.get_list("set-cookie") if c.startswith("keel_session=")
    )
    page = http.get("/ui/p/churn")
    assert page.status_code == 200 and "Predict which customers leave" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"token": "keel_" + "x" * 43}, 401, "not valid"),
        ({"token": ""}, 400, "paste an API token"),
        ({"token": "whatever", "csrf": "0" * 64}, 403, "expired; try again"),
    ],
)
def test_sign_in_refuses_a_bad_token_or_a_forged_form(
    world: AuthWorld, fields: dict[str, str], status: int, message: str
) -> None:
    http = TestClient(world.app, raise_server_exceptions=False)
    form = http.get("/ui/signin")
    response = http.post("/ui/signin", data={"csrf": csrf_of(form.text), **fields}, follow_redirects=False)
    assert response.status_code == status and message in response.text
    assert "keel_session" not in response.headers.get("set-cookie", "").split("keel_signin")[0]


def test_sign_in_never_redirects_off_site(world: AuthWorld) -> None:
    http = TestClient(world.app, raise_server_exceptions=False)
    for target in ("https://evil.example/", "//evil.example/ui/", "/api/v1/projects", "/ui/\\evil"):
        form = http.get("/ui/signin")
        response = http.post(
            "/ui/signin",
            data={"csrf": csrf_of(form.text), "token": world.admin_token, "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/ui/"


def test_an_expired_or_revoked_token_ends_the_session_with_no_data_shown(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    world.user("vera", role="viewer", project="churn")
    issued = admin.tokens.create(name="ui", user="vera", expires="1h")
    http = sign_in(world, str(issued.secret))
    assert http.get("/ui/p/churn").status_code == 200
    expire(world, issued.token.id)
    response = http.get("/ui/p/churn", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin")
    assert "Predict which customers leave" not in response.text
    assert 'keel_session=""' in response.headers["set-cookie"]  # the cookie is dropped
    again = TestClient(world.app, raise_server_exceptions=False)
    form = again.get("/ui/signin")
    refused = again.post("/ui/signin", data={"csrf": csrf_of(form.text), "token": str(issued.secret)})
    assert refused.status_code == 401

    other = admin.tokens.create(name="ui2", user="vera")
    http = sign_in(world, str(other.secret))
    admin.tokens.revoke(id=other.token.id)
    world.ctx.authorizer.verifier.invalidate()  # type: ignore[attr-defined]
    assert http.get("/ui/p/churn/runs", follow_redirects=False).status_code == 303


def test_state_changing_requests_need_the_sessions_csrf_token(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    assert http.post("/ui/signout", data={}).status_code == 403
    assert http.post("/ui/signout", data={"csrf": "f" * 64}).status_code == 403
    other = sign_in(world, world.user("olga", admin=True))
    foreign = csrf_of(other.get("/ui/").text)
    assert http.post("/ui/signout", data={"csrf": foreign}).status_code == 403  # another session's token
    token = csrf_of(http.get("/ui/").text)
    out = http.post("/ui/signout", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303 and 'keel_session=""' in out.headers["set-cookie"]
    assert (
        http.post("/ui/signout", headers={"X-CSRF-Token": token}, data={}, follow_redirects=False).status_code
        == 303
    )


def test_a_project_the_caller_cannot_see_is_a_404_page(world: AuthWorld) -> None:
    http = sign_in(world, world.user("nobody"))
    run_id = world.seeded["runs"][0]  # type: ignore[attr-defined]
    for path in (
        "/ui/p/churn",
        "/ui/p/churn/runs",
        f"/ui/runs/{run_id}",
        "/ui/p/churn/models",
        "/ui/p/ghost",
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "Predict which customers leave" not in response.text and "run-0" not in response.text
    assert "churn" not in http.get("/ui/").text


def test_project_page_shows_problem_objectives_and_kpi_status(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    page = http.get("/ui/p/churn").text
    assert "Predict which customers leave" in page and "cut churn 10%" in page
    assert "auc" in page and "&gt;= 0.8" in page
    assert 'class="status met"' in page  # the latest finished run (run-2, auc 0.83) meets it


def test_runs_page_lists_the_same_runs_as_its_json_twin_filtered_and_sorted(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    rest = world.client(world.admin_token).runs.search(
        project="churn", filter="metrics.auc > 0.8", order_by=["metrics.auc desc"]
    )
    page = http.get("/ui/p/churn/runs", params={"filter": "metrics.auc > 0.8", "order": "metrics.auc desc"})
    assert page.status_code == 200
    shown = [name for name in ("run-0", "run-1", "run-2") if f">{name}</a>" in page.text]
    assert shown == sorted(r.name for r in rest.items)
    assert page.text.index(">run-1</a>") < page.text.index(">run-2</a>")  # auc 0.86 before 0.83
    assert "POST /api/v1/runs/search" in page.text or "/api/v1/runs/search" in page.text
    fragment = http.get(
        "/ui/p/churn/runs", params={"filter": "params.depth = 3"}, headers={"HX-Request": "true"}
    )
    assert (
        "<html" not in fragment.text and ">run-0</a>" in fragment.text and ">run-1</a>" not in fragment.text
    )


def test_runs_page_pages_through_the_search(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    admin.projects.create(name="bulk")
    for i in range(29):
        admin.runs.create(project="bulk", name=f"bulk-{i:02d}")
    http = sign_in(world, world.admin_token)
    first = http.get("/ui/p/bulk/runs", params={"limit": 25, "order": "attributes.name asc"}).text
    assert first.count('name="run"') == 25 and "Next page" in first
    link = first.split("Next page")[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = http.get(link).text
    assert second.count('name="run"') == 4 and "Next page" not in second


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"filter": "metrics.auc >"}, "filter error at position"),
        ({"filter": "metrics.auc > 0.8 and (params.depth = 3"}, "^"),
        ({"order": "metrics.auc sideways"}, "^"),
        ({"limit": "7"}, "limit must be one of"),
        ({"limit": "many"}, "limit must be an integer"),
    ],
)
def test_a_bad_filter_is_shown_in_the_page_with_its_caret_never_a_500(
    world: AuthWorld, params: dict[str, str], shown: str
) -> None:
    http = sign_in(world, world.admin_token)
    response = http.get("/ui/p/churn/runs", params=params)
    assert response.status_code == 422 and shown in response.text
    assert 'role="alert"' in response.text


def test_run_page_shows_params_metrics_artifacts_and_lineage(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    run_id = world.seeded["runs"][1]  # type: ignore[attr-defined]
    page = http.get(f"/ui/runs/{run_id}").text
    for text in (
        "run-1",
        "depth",
        "lr",
        'data-key="loss"',
        'data-key="auc"',
        "Artifacts",
        "Lineage",
        f"/api/v1/runs/{run_id}",
    ):
        assert text in page, text
    empty = world.client(world.admin_token).runs.create(project="churn", name="silent")
    assert "This run logged no metrics." in http.get(f"/ui/runs/{empty.id}").text


def test_series_turns_nan_and_inf_into_gaps_and_downsamples_long_metrics(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    run_id = world.seeded["runs"][1]  # type: ignore[attr-defined]
    body = http.get(f"/ui/runs/{run_id}/series", params={"key": "loss"}).json()
    assert body["total"] == 50 and body["downsampled"] is False
    assert body["values"][10] is None and body["values"][20] is None and body["values"][0] == 0.5
    admin = world.client(world.admin_token)
    long = admin.runs.create(project="churn", name="long")
    admin.runs.log_batch(run_id=long.id, metrics=[("x", float(i % 97), i, i) for i in range(20_000)])
    cut = http.get(f"/ui/runs/{long.id}/series", params={"key": "x"}).json()
    assert cut["total"] == 20_000 and cut["downsampled"] and len(cut["steps"]) <= 2000
    assert min(cut["values"]) == 0.0 and max(cut["values"]) == 96.0  # extremes survive
    zoomed = http.get(f"/ui/runs/{long.id}/series", params={"key": "x", "lo": 100, "hi": 300}).json()
    assert zoomed["steps"] == list(range(100, 301)) and not zoomed["downsampled"]
    for params, message in [
        ({"key": "x", "lo": 5, "hi": 1}, "zoom range is empty"),
        ({"key": "x", "points": 1}, "points: Input should be greater than or equal to 3"),
        ({"key": "x", "lo": "soon"}, "lo must be an integer"),
        ({}, "key is required"),
    ]:
        bad = http.get(f"/ui/runs/{long.id}/series", params=params)
        assert bad.status_code == 422 and message in bad.json()["error"]["message"]


def test_compare_overlays_runs_and_diffs_params(world: AuthWorld) -> None:
    http = sign_in(world, world.admin_token)
    a, b, _ = world.seeded["runs"]  # type: ignore[attr-defined]
    page = http.get("/ui/compare", params=[("run", a), ("run", b)]).text
    assert f'data-runs="{a},{b}"' in page and 'data-key="loss"' in page
    assert 'class="differs"' in page and "depth" in page  # depth differs, lr is the same
    assert 'class="same"' in page
    one = http.get("/ui/compare", params={"run": a})
    assert one.status_code == 422 and "choose between 2 and 8 runs" in one.text
    assert http.get("/ui/compare", params=[("run", a), ("run", "nope")]).status_code == 404


def test_the_charts_series_is_the_rest_routes_answer(world: AuthWorld) -> None:
    run_id = world.seeded["runs"][1]  # type: ignore[attr-defined]
    params = {"key": "loss", "points": 30}
    rest = world.http(world.admin_token).get(f"/api/v1/runs/{run_id}/series", params=params)
    ui = sign_in(world, world.admin_token).get(f"/ui/runs/{run_id}/series", params=params)
    assert rest.status_code == ui.status_code == 200 and ui.json() == rest.json()
