"""Autolog for every common estimator: only the outermost fit logs, nested fits never make runs,
searches log their best params and one child run per candidate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import keel
import keel.sdk
from keel.client import Client

sklearn = pytest.importorskip("sklearn")

from sklearn.datasets import make_classification  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

X, Y = make_classification(n_samples=80, n_features=5, random_state=0)


@pytest.fixture
def client(make_keel: Callable[..., Client]) -> Iterator[Client]:
    c = make_keel()
    c.projects.create(name="auto")
    keel.sdk._default, keel.sdk._project = c, "auto"
    keel.autolog()
    try:
        yield c
    finally:
        keel.autolog(disable=True)


def _runs(client: Client) -> list[Any]:
    return list(client.runs.search(project="auto", limit=1000).items)


CASES = [
    (LogisticRegression(max_iter=200), {"C": 1.0, "max_iter": 200}),
    (Ridge(alpha=0.5), {"alpha": 0.5}),
    (DecisionTreeClassifier(max_depth=3), {"max_depth": 3}),
    (RandomForestClassifier(n_estimators=7, max_depth=2, n_jobs=2), {"n_estimators": 7, "max_depth": 2}),
    (
        GradientBoostingClassifier(n_estimators=20, learning_rate=0.2),
        {"n_estimators": 20, "learning_rate": 0.2},
    ),
    (HistGradientBoostingClassifier(max_iter=15), {"max_iter": 15}),
    (
        make_pipeline(StandardScaler(), LogisticRegression(C=0.3)),
        {"logisticregression__C": 0.3, "standardscaler__with_mean": True},
    ),
]


@pytest.mark.parametrize(
    ("estimator", "expected"), CASES, ids=lambda c: type(c).__name__ if not isinstance(c, dict) else ""
)
def test_one_fit_outside_a_run_makes_one_run_with_its_own_params(
    client: Client, estimator: Any, expected: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="keel"):
        estimator.fit(X, Y)
    [run] = _runs(client)  # nested fits (trees, init estimators, pipeline steps) made none
    stored = client.runs.get(run_id=run.id)
    assert stored.status == "FINISHED" and stored.name == type(estimator).__name__
    assert {k: stored.params[k] for k in expected} == expected
    assert stored.tags["estimator"].endswith(type(estimator).__name__)
    assert "training_score" in stored.metrics and "fit_time_s" in stored.metrics
    assert "model/model.skops" in [a.path for a in stored.artifacts]
    assert not [r for r in caplog.records if "autolog" in r.getMessage()]


def test_gradient_boosting_inside_a_run_logs_its_own_params_not_its_init_estimators(client: Client) -> None:
    with keel.start_run(name="gbm", system_metrics=False, capture_env=False) as run:
        GradientBoostingClassifier(n_estimators=10).fit(X, Y)
    [only] = _runs(client)
    stored = client.runs.get(run_id=run.id)
    assert only.id == run.id and stored.params["n_estimators"] == 10
    assert "strategy" not in stored.params  # DummyClassifier's
    assert stored.tags["estimator"].endswith("GradientBoostingClassifier")


@pytest.mark.parametrize("kind", ["grid", "random"])
def test_a_search_logs_best_params_and_one_child_run_per_candidate(client: Client, kind: str) -> None:
    grid = {"C": [0.1, 1.0, 10.0], "fit_intercept": [True, False]}
    search: Any
    if kind == "grid":
        search = GridSearchCV(LogisticRegression(max_iter=200), grid, cv=3)
    else:
        search = RandomizedSearchCV(LogisticRegression(max_iter=200), grid, n_iter=4, cv=3, random_state=0)
    search.fit(X, Y)
    runs = _runs(client)
    [parent] = [r for r in runs if r.parent_id is None]
    children = [r for r in runs if r.parent_id == parent.id]
    assert len(children) == len(search.cv_results_["params"]) == (6 if kind == "grid" else 4)
    stored = client.runs.get(run_id=parent.id)
    assert stored.params["best_C"] == search.best_params_["C"]
    assert stored.params["best_fit_intercept"] == search.best_params_["fit_intercept"]
    assert stored.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    by_rank = {client.runs.get(run_id=c.id).metrics["rank_test_score"]: c for c in children}
    best = client.runs.get(run_id=by_rank[1.0].id)
    assert best.metrics["mean_test_score"] == pytest.approx(search.best_score_)
    assert best.status == "FINISHED" and "C" in best.params


def test_autolog_disable_restores_every_fit(client: Client) -> None:
    keel.autolog(disable=True)
    RandomForestClassifier(n_estimators=3).fit(X, Y)
    LogisticRegression().fit(X, Y)
    assert _runs(client) == []
    assert "fit" not in RandomForestClassifier.__dict__  # it inherits fit again
    keel.autolog()


def test_fits_in_worker_threads_of_an_outer_fit_make_no_runs(client: Client) -> None:
    from joblib import parallel_backend

    with parallel_backend("threading", n_jobs=2):
        GridSearchCV(DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2, n_jobs=2).fit(X, Y)
    runs = _runs(client)
    [parent] = [r for r in runs if r.parent_id is None]
    assert len(runs) == 3 and parent.name == "GridSearchCV"
