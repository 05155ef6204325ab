"""Serving fixtures: an auth-on workspace with project 'churn', a fitted iris model registered and promoted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.testing.auth import AuthWorld


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    """A logistic regression on iris (named float columns), and its features."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    X.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    return LogisticRegression(max_iter=500).fit(X, y), X


@pytest.fixture
def package(iris: tuple[Any, Any], tmp_path: Path) -> Path:
    import keel.models

    model, X = iris
    keel.models.save(model, tmp_path / "pkg", input_example=X.head(3))
    return tmp_path / "pkg"


@pytest.fixture
def world(tmp_path: Path, package: Path) -> AuthWorld:
    """Project 'churn' with model 'iris' version 1 at alias 'live' and version 2 at 'candidate'."""
    from keel.sdk import register_model

    w = AuthWorld(tmp_path / "ws")
    w.project("churn")
    admin = w.client(w.admin_token)
    for alias in ("live", "candidate"):
        version = register_model(package, "iris", project="churn", client=admin)
        admin.models.set_alias(project="churn", name="iris", alias=alias, version=version.number)
    return w
