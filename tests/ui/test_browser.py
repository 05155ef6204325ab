"""The web UI in a real browser: Debian's chromium driven by Playwright against a real ``keel server``.

One server and one browser for the module (a fresh browser context, so fresh
cookies, per test). Never ``playwright install``: the system's chromium is
used, and the tests skip with a reason where it is absent (``.ci/run``
installs it). Screenshots are kept under the pytest tmp dir.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from keel.client import connect
from keel.testing.fixtures import ServerProcess, admin_token, new_workspace

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="no chromium (apt-get install chromium; .ci/run does)"
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the dev extra")


class Site:
    """The running server, its seeded names and tokens, and where screenshots go."""

    def __init__(self, server: ServerProcess, shots: Path, **values: Any) -> None:
        self.server = server
        self.url = server.url
        self.shots = shots
        self.values = values

    def __getitem__(self, key: str) -> Any:
        return self.values[key]


def _seed(settings: Any, tmp: Path) -> dict[str, Any]:
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier
    from sqlalchemy import update

    import keel.models
    from keel.auth.models import TokenRow
    from keel.context import Context
    from keel.core.timeutil import utcnow
    from keel.sdk import register_model

    local = connect(settings=settings)
    local.projects.create(
        name="churn",
        description="Predict which customers leave",
        objectives=["cut churn"],
        kpis=["auc >= 0.8"],
    )
    runs = []
    for i, (depth, auc) in enumerate([(3, 0.71), (6, 0.86), (9, 0.83)]):
        run = local.runs.create(project="churn", name=f"run-{i}", params={"depth": depth, "lr": 0.1})
        loss = [1.0 / (step + 1 + i) for step in range(200)]
        if i == 1:
            loss[50], loss[120] = float("nan"), float("inf")
        local.runs.log_batch(
            run_id=run.id,
            metrics=[*((("loss", v, s, 1_000 + s) for s, v in enumerate(loss))), ("auc", auc, 199, 5_000)],
        )
        local.runs.end(run_id=run.id, status="FINISHED")
        runs.append(run.id)
    X, y = load_iris(return_X_y=True, as_frame=True)
    folder = tmp / "iris"
    keel.models.save(
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), folder, input_example=X.head(3)
    )
    local.projects.create(name="reg")
    register_model(folder, "iris", project="reg", client=local)
    local.users.add(name="vic")
    local.roles.grant(project="reg", user="vic", role="viewer")
    local.roles.grant(project="churn", user="vic", role="viewer")
    viewer = local.tokens.create(name="ui", user="vic")
    expired = local.tokens.create(name="old", user="vic", expires="1h")
    with Context(settings).store.write() as session:  # time passing, without the wait
        session.execute(
            update(TokenRow)
            .where(TokenRow.id == expired.token.id)
            .values(expires_at=utcnow() - timedelta(hours=1))
        )
    return {"runs": runs, "viewer": str(viewer.secret), "expired": str(expired.secret)}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("ui-browser")
    settings = new_workspace(root / "ws")
    token = admin_token(settings)
    values = _seed(settings, root)
    server = ServerProcess(Path(settings.home), token=token)
    try:
        server.wait_ready()
        shots = root / "screenshots"
        shots.mkdir()
        yield Site(server, shots, admin=token, **values)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
        assert errors == [], f"script errors in the page: {errors}"
    finally:
        context.close()


def sign_in(page: Any, token: str) -> None:
    page.goto("/ui/")
    assert "/ui/signin" in page.url
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/")


def test_sign_in_then_filter_the_runs_table_and_see_a_syntax_error_with_its_caret(
    page: Any, site: Site
) -> None:
    sign_in(page, site["admin"])
    page.get_by_role("link", name="churn").first.click()
    page.get_by_role("link", name="Runs").first.click()
    rows = page.locator("table.runs tbody tr")
    assert rows.count() == 3
    page.get_by_label("Filter").fill("metrics.auc > 0.8")
    page.get_by_role("button", name="Apply").click()
    sync_api.expect(rows).to_have_count(2)
    assert "filter=metrics.auc" in page.url  # the filter is in the address, so the view can be shared
    assert page.locator("table.runs").inner_text().count("run-0") == 0
    page.screenshot(path=str(site.shots / "runs-filtered.png"), full_page=True)
    page.get_by_label("Filter").fill("metrics.auc >")
    page.get_by_role("button", name="Apply").click()
    alert = page.locator("#filter-error")
    alert.wait_for()
    assert "filter error at position" in alert.inner_text() and "^" in alert.inner_text()
    page.screenshot(path=str(site.shots / "runs-filter-error.png"), full_page=True)


def test_a_run_page_draws_its_chart_with_gaps_for_nan_and_inf(page: Any, site: Site) -> None:
    sign_in(page, site["admin"])
    page.goto(f"/ui/runs/{site['runs'][1]}")
    chart = page.locator('figure[data-key="loss"]')
    page.wait_for_selector('figure[data-key="loss"][data-drawn="true"]')
    assert chart.locator("canvas").count() == 1
    note = chart.locator(".chart-note").inner_text()
    assert "200 of 200 points drawn" in note and "2 gaps" in note
    assert page.locator("text=depth").count() >= 1
    page.screenshot(path=str(site.shots / "run.png"), full_page=True)


def test_compare_two_runs_overlays_their_curves_and_diffs_params(page: Any, site: Site) -> None:
    sign_in(page, site["admin"])
    page.goto("/ui/p/churn/runs")
    page.get_by_label("select run-0").check()
    page.get_by_label("select run-2").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url("**/ui/compare?**")
    page.wait_for_selector('figure[data-key="loss"][data-drawn="true"]')
    legend = page.locator('figure[data-key="loss"] .u-legend').inner_text()
    assert "run-0" in legend and "run-2" in legend
    assert page.locator("tr.differs").first.inner_text().startswith("depth")
    page.screenshot(path=str(site.shots / "compare.png"), full_page=True)


def test_a_viewer_sees_no_promote_button_and_a_forged_promote_is_refused(page: Any, site: Site) -> None:
    sign_in(page, site["viewer"])
    page.goto("/ui/p/reg/models/iris")
    assert page.get_by_role("button", name="Promote v1").count() == 0
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    forged = page.request.post(
        "/ui/p/reg/models/iris/promote", form={"csrf": csrf, "version": "1", "alias": "staging"}
    )
    assert forged.status == 403
    page.screenshot(path=str(site.shots / "model-viewer.png"), full_page=True)


def test_an_expired_token_lands_on_sign_in_with_no_data(page: Any, site: Site) -> None:
    page.context.add_cookies([{"name": "keel_session", "value": site["expired"], "url": site.url}])
    page.goto("/ui/p/churn")
    assert "/ui/signin" in page.url
    assert "Predict which customers leave" not in page.content()
    page.get_by_label("API token").fill(site["expired"])
    page.get_by_role("button", name="Sign in").click()
    assert "not valid" in page.locator(".error").inner_text()
    page.screenshot(path=str(site.shots / "expired.png"), full_page=True)


def test_main_pages_have_no_wcag_a_or_aa_violations(page: Any, site: Site) -> None:
    axe_module = pytest.importorskip(
        "axe_playwright_python.sync_playwright", reason="axe is in the dev extra"
    )
    axe = axe_module.Axe()
    page.goto("/ui/signin")
    found: dict[str, list[str]] = {}
    paths = ["/ui/signin"]
    sign_in(page, site["admin"])
    paths += [
        "/ui/",
        "/ui/p/churn",
        "/ui/p/churn/runs",
        f"/ui/runs/{site['runs'][1]}",
        "/ui/p/reg/models/iris",
    ]
    for path in paths:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}})
        violations = results.response["violations"]
        if violations:
            found[path] = [f"{v['id']}: {v['help']}" for v in violations]
    assert found == {}
