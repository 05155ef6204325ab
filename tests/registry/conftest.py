from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.testing.auth import AuthWorld


@pytest.fixture(scope="session")
def fitted() -> tuple[Any, Any, Any]:
    """A small fitted model on breast-cancer (fast): (model, X, y)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y), X, y


@pytest.fixture
def package(fitted: Any, tmp_path: Path) -> Path:
    import keel.models

    model, X, _ = fitted
    keel.models.save(model, tmp_path / "pkg", input_example=X.head(5))
    return tmp_path / "pkg"


@pytest.fixture
def world(tmp_path: Path) -> AuthWorld:
    """A workspace behind an auth-on app, project 'churn' with one offline KPI."""
    w = AuthWorld(tmp_path / "ws")
    w.project("churn")
    w.client(w.admin_token).projects.edit(name="churn", kpis=["accuracy >= 0.9"])
    return w
