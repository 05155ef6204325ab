"""Pipelines with gates the tests run: a tiny scikit-learn model, registered and promoted."""

from __future__ import annotations

from typing import Any

import keel.pipelines as kp
from keel.pipelines import gates


@kp.step
def fit(n: int = 60) -> dict[str, Any]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    X = np.arange(n, dtype=float).reshape(-1, 1)
    y = (X[:, 0] > n / 2).astype(int)
    model = LogisticRegression().fit(X, y)
    kp.log_metric("accuracy", float(model.score(X, y)))
    return {"model": model, "example": X[:3]}


@kp.pipeline
def ship(n: int = 60, alias: str = "candidate") -> object:
    version = gates.register(fit(n), name="tiny")
    return gates.promote(version, to=alias)


@kp.step
def table_path(path: str) -> str:
    return path


@kp.pipeline
def checked(dataset: str = "rows@latest", suite: Any = None) -> object:
    ok = gates.validate_data(dataset, suite=suite)
    version = gates.register(fit(), name="tiny")
    version.after(ok)
    return gates.promote(version, to="candidate")
