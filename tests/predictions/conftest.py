"""A deployment to log predictions for: project 'churn', model 'iris' v1 at 'live', deployment 'iris-prod'."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.testing.auth import AuthWorld


@pytest.fixture(scope="session")
def iris_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    import keel.models

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    root = tmp_path_factory.mktemp("pkg")
    keel.models.save(LogisticRegression(max_iter=500).fit(X, y), root / "pkg", input_example=X.head(3))
    return root / "pkg"


@pytest.fixture
def world(tmp_path: Path, iris_package: Path) -> AuthWorld:
    from keel.sdk import register_model

    w = AuthWorld(tmp_path / "ws")
    w.project("churn")
    w.project("other")
    admin = w.client(w.admin_token)
    version = register_model(iris_package, "iris", project="churn", client=admin)
    admin.models.set_alias(project="churn", name="iris", alias="live", version=version.number)
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    return w


@pytest.fixture
def admin(world: AuthWorld) -> Any:
    return world.client(world.admin_token)
