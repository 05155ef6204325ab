"""The pipeline the CI workflow runs on a pull request: prepare, train two candidates, gate the better one.

``keel pipeline run examples/ci/pipeline.py:churn`` exits 1 when a gate
fails (the project's KPIs, through the registry's promotion gate), which
fails the pull request's check; ``keel run compare --markdown`` on the two
training runs is the comment the workflow posts.
"""

from __future__ import annotations

from typing import Any

import keel.pipelines as kp
from keel.pipelines import gates

NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["region", "plan", "contract", "payment_method"]


@kp.step
def prepare(path: str) -> dict[str, Any]:
    """One-hot features and a stratified split, missing values filled with training medians."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = pd.read_parquet(path)
    X = pd.get_dummies(frame[NUMERIC + CATEGORICAL], columns=CATEGORICAL, dtype=float)
    X_train, X_val, y_train, y_val = train_test_split(
        X, frame["churned"].astype(int), test_size=0.25, random_state=0, stratify=frame["churned"]
    )
    medians = X_train.median()
    return {
        "X_train": X_train.fillna(medians),
        "X_val": X_val.fillna(medians),
        "y_train": y_train,
        "y_val": y_val,
    }


@kp.step
def train(data: dict[str, Any], c: float) -> dict[str, Any]:
    """A scaled logistic regression; its scores go to its run."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500))
    model.fit(data["X_train"], data["y_train"])
    proba = model.predict_proba(data["X_val"])[:, 1]
    scores = {
        "accuracy": float(accuracy_score(data["y_val"], proba >= 0.5)),
        "roc_auc": float(roc_auc_score(data["y_val"], proba)),
    }
    kp.log_metrics(scores)
    return {"model": model, "example": data["X_val"].head(3), "scores": scores}


@kp.step
def pick(**candidates: dict[str, Any]) -> dict[str, Any]:
    """The candidate with the best roc_auc; its scores are logged here, where the gate reads them."""
    best = max(candidates.values(), key=lambda c: c["scores"]["roc_auc"])
    kp.log_metrics(best["scores"])
    return best


@kp.pipeline
def churn(path: str = "data/customers.parquet") -> object:
    data = prepare(path)
    trained = {f"train-c{c:g}": train.named(f"train-c{c:g}")(data, c) for c in (0.1, 1.0)}
    version = gates.register(pick(**trained), name="churn")
    return gates.promote(version, to="candidate")
