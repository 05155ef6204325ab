"""Labelled customer-like frames and fitted models for the model validation tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

NUMERIC = ["tenure", "spend"]
CATEGORICAL = ["plan"]


def labelled(
    rows: int, seed: int, *, groups: tuple[str, ...] = ("female", "male", "nonbinary")
) -> pd.DataFrame:
    """Rows with two numbers, a plan, a gender (not a feature) and a 0/1 label that depends on them."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, rows)
    spend = rng.normal(50, 15, rows)
    plan = rng.choice(["basic", "plus", "pro"], rows)
    gender = rng.choice(list(groups), rows, p=None)
    logit = -0.5 - 0.05 * tenure + 0.03 * (spend - 50) + 0.8 * (plan == "pro") + 0.4 * (gender == groups[0])
    churned = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "tenure": tenure,
            "spend": spend,
            "plan": plan,
            "gender": gender,
            "churned": churned.astype(np.int64),
        }
    )


def preprocessing(frame: pd.DataFrame) -> Any:
    """A fitted ColumnTransformer: scaled numbers, one-hot plan."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer(
        [("num", StandardScaler(), NUMERIC), ("cat", OneHotEncoder(sparse_output=False), CATEGORICAL)]
    ).fit(frame[NUMERIC + CATEGORICAL])


def package(folder: Path, frame: pd.DataFrame, *, c: float = 1.0, with_preprocessing: bool = True) -> Path:
    """Fit a logistic regression on the prepared features and save it as a package carrying its preparation."""
    from sklearn.linear_model import LogisticRegression

    import keel.models
    from keel.validation import attach_preprocessing

    prep = preprocessing(frame)
    features = prep.transform(frame[NUMERIC + CATEGORICAL])
    model = LogisticRegression(C=c, max_iter=500).fit(features, frame["churned"])
    keel.models.save(model, folder, input_example=features[:5])
    if with_preprocessing:
        attach_preprocessing(folder, prep, frame[NUMERIC + CATEGORICAL])
    return folder


def weak_package(folder: Path, frame: pd.DataFrame) -> Path:
    """A model that sees only ``spend`` through a Pipeline (no separate preprocessing): a weak champion."""
    from sklearn.linear_model import LogisticRegression

    import keel.models

    model = LogisticRegression().fit(frame[["spend"]], frame["churned"])
    keel.models.save(model, folder, input_example=frame[["spend"]].head(5))
    return folder
