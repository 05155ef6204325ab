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


@kp.step
def fit_frame(n: int = 60) -> dict[str, Any]:
    """A model on a named column, so a labelled table can feed it by name."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"x": [float(i) for i in range(n)]})
    y = (X["x"] > n / 2).astype(int)
    model = LogisticRegression().fit(X, y)
    kp.log_metric("accuracy", float(model.score(X, y)))
    return {"model": model, "example": X.head(3)}


@kp.pipeline
def validated(holdout: str = "holdout@latest") -> object:
    version = gates.register(fit_frame(), name="framed")
    version = gates.validate(version, data=holdout, label_column="y")
    return gates.promote(version, to="candidate")


@kp.pipeline
def parity_checked() -> object:
    return gates.promote(gates.check_parity(gates.register(fit_frame(), name="framed")), to="candidate")
