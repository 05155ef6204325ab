"""Models pages: versions and aliases; promote for those allowed, refused with 403 for a forged viewer POST."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from keel.testing.auth import AuthWorld

from .conftest import csrf_of, sign_in


@pytest.fixture(scope="module")
def registered(world: AuthWorld, tmp_path_factory: pytest.TempPathFactory) -> AuthWorld:
    """Project 'reg' (no KPIs, so the gate passes) with model 'iris' at versions 1 and 2."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    import keel.models
    from keel.sdk import register_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    folder = tmp_path_factory.mktemp("pkg") / "iris"
    keel.models.save(
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), folder, input_example=X.head(3)
    )
    admin = world.client(world.admin_token)
    admin.projects.create(name="reg")
    for _ in range(2):
        register_model(folder, "iris", project="reg", client=admin)
    return world


def _promote(http: Any, csrf: str, version: str = "2", alias: str = "production") -> Any:
    return http.post(
        "/ui/p/reg/models/iris/promote",
        data={"csrf": csrf, "version": version, "alias": alias},
        follow_redirects=False,
    )


def test_an_editor_promotes_from_the_model_page(registered: AuthWorld) -> None:
    http = sign_in(registered, registered.user("eddie", role="editor", project="reg"))
    listing = http.get("/ui/p/reg/models").text
    assert ">iris</a>" in listing and "/api/v1/projects/reg/models" in listing
    page = http.get("/ui/p/reg/models/iris")
    assert "Promote v2" in page.text and "Promote v1" in page.text
    response = _promote(http, csrf_of(page.text), alias="staging")
    assert response.status_code == 303 and response.headers["location"] == "/ui/p/reg/models/iris"
    versions = registered.client(registered.admin_token).models.versions(project="reg", name="iris")
    assert {v.number: v.aliases for v in versions}[2] == ["staging"]
    assert "staging → 2" in http.get("/ui/p/reg/models").text
    protected = _promote(http, csrf_of(page.text), alias="production")  # the project protects it: admins only
    assert protected.status_code == 403 and "this needs admin" in protected.text


def test_a_viewer_sees_no_promote_button_and_a_forged_promote_is_refused_with_403(
    registered: AuthWorld,
) -> None:
    http = sign_in(registered, registered.user("vic", role="viewer", project="reg"))
    page = http.get("/ui/p/reg/models/iris")
    assert page.status_code == 200 and "Promote" not in page.text and "/promote" not in page.text
    before = registered.client(registered.admin_token).models.versions(project="reg", name="iris")
    response = _promote(http, csrf_of(page.text), version="1")
    assert response.status_code == 403
    after = registered.client(registered.admin_token).models.versions(project="reg", name="iris")
    assert [v.aliases for v in after] == [v.aliases for v in before]


@pytest.mark.parametrize(
    ("version", "alias", "status", "message"),
    [
        ("two", "production", 422, "version must be a version number"),
        ("2", "", 422, "alias is required"),
        ("9", "staging", 404, "9"),
        ("1", "Not An Alias!", 422, "alias"),
    ],
)
def test_a_bad_promotion_is_shown_and_changes_nothing(
    registered: AuthWorld, version: str, alias: str, status: int, message: str
) -> None:
    http = sign_in(registered, registered.admin_token)
    csrf = csrf_of(http.get("/ui/p/reg/models/iris").text)
    before = registered.client(registered.admin_token).models.versions(project="reg", name="iris")
    response = _promote(http, csrf, version=version, alias=alias)
    assert response.status_code == status and message in response.text
    after = registered.client(registered.admin_token).models.versions(project="reg", name="iris")
    assert [v.aliases for v in after] == [v.aliases for v in before]


def test_promote_without_the_csrf_token_is_refused(registered: AuthWorld) -> None:
    http = sign_in(registered, registered.admin_token)
    assert _promote(http, "").status_code == 403


def test_the_quickstarts_sign_in_token_opens_the_ui(tmp_path: Path) -> None:
    from keel.client import connect
    from keel.context import Context
    from keel.quickstart.ui import say_ui_signin
    from keel.server import create_app
    from keel.testing.fixtures import new_workspace

    settings = new_workspace(tmp_path / "qs")
    lines: list[str] = []
    first = say_ui_signin(connect(settings=settings), settings, lines.append)
    again = say_ui_signin(connect(settings=settings), settings, lines.append)  # a re-run: a new token
    assert first != again and lines[0].startswith("  keel server") and "http://127.0.0.1:5000/ui/" in lines[0]
    assert lines[1].strip() == first
    server = SimpleNamespace(app=create_app(Context(settings), auth=True))
    assert sign_in(server, again).get("/ui/").status_code == 200
