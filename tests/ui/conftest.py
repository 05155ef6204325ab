"""A seeded workspace behind the auth-on app, and a browser-like client signed in through the UI's form."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.testing.auth import AuthWorld

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


def seed(world: AuthWorld) -> dict[str, Any]:
    """Project churn (KPI auc >= 0.8) with three finished runs; the second has NaN and inf in its loss."""
    admin = world.client(world.admin_token)
    admin.projects.create(
        name="churn",
        description="Predict which customers leave",
        objectives=["cut churn 10%"],
        kpis=["auc >= 0.8"],
    )
    ids = []
    for i, (depth, auc) in enumerate([(3, 0.71), (6, 0.86), (9, 0.83)]):
        run = admin.runs.create(project="churn", name=f"run-{i}", params={"depth": depth, "lr": 0.1})
        loss = [1.0 / (step + 1 + i) for step in range(50)]
        if i == 1:
            loss[10], loss[20] = float("nan"), float("inf")
        points = [("loss", v, step, 1_000 + step) for step, v in enumerate(loss)]
        admin.runs.log_batch(run_id=run.id, metrics=[*points, ("auc", auc, 49, 2_000)])
        admin.runs.end(run_id=run.id, status="FINISHED")
        ids.append(run.id)
    return {"runs": ids}


def sign_in(world: AuthWorld | Any, token: str, *, base_url: str = "http://testserver") -> TestClient:
    """A client holding a UI session for ``token`` (signed in through the form, CSRF and all)."""
    http = TestClient(world.app, base_url=base_url, raise_server_exceptions=False)
    form = http.get("/ui/signin")
    response = http.post(
        "/ui/signin",
        data={"csrf": CSRF.search(form.text).group(1), "token": token, "next": "/ui/"},  # type: ignore[union-attr]
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return http


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None
    return found.group(1)


def expire(world: AuthWorld, token_id: str) -> None:
    """Move a token's expiry into the past (as time passing would) and drop the verifier's cache."""
    from sqlalchemy import update

    from keel.auth.models import TokenRow
    from keel.core.timeutil import utcnow

    with world.ctx.store.write() as session:
        session.execute(
            update(TokenRow).where(TokenRow.id == token_id).values(expires_at=utcnow() - timedelta(hours=1))
        )
    invalidate = getattr(getattr(world.ctx.authorizer, "verifier", None), "invalidate", None)
    if invalidate is not None:
        invalidate()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> AuthWorld:
    """One seeded world per module (tests that add things add their own names or projects)."""
    w = AuthWorld(tmp_path_factory.mktemp("ui") / "ws")
    w.seeded = seed(w)  # type: ignore[attr-defined]
    return w
