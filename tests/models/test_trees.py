"""Keel vouches for tree storage: sound ensembles load, crafted trees are refused (never a crash or a hang)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier

import keel.models as km
from keel.core.errors import UnsafeTree
from keel.models.trees import vouch

pytestmark = pytest.mark.timeout(60)  # a cycle that slipped through would hang predict


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomForestClassifier(n_estimators=5, random_state=0),
        lambda: ExtraTreesClassifier(n_estimators=5, random_state=0),
        lambda: GradientBoostingClassifier(n_estimators=5, random_state=0),
        lambda: HistGradientBoostingClassifier(max_iter=5, random_state=0),
        lambda: RandomForestRegressor(n_estimators=3, random_state=0),
    ],
    ids=["rf", "extratrees", "gb", "hgb", "rf-regressor"],
)
def test_tree_ensembles_load_and_predict_the_same(make: Any, cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    model = make().fit(X, y)
    km.save(model, tmp_path / "pkg", input_example=X.head(5))
    loaded = km.load(tmp_path / "pkg")
    assert vouch(loaded.raw) > 0
    np.testing.assert_array_equal(loaded.predict(X.head(50)), model.predict(X.head(50)))


def _tamper(tree: Any, field: str, node: int, value: int) -> None:
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes[field][node] = value
    state["nodes"] = nodes
    tree.__setstate__(state)


def _first_inner_child(tree: Any) -> int:
    child = int(tree.children_left[0])
    assert tree.children_left[child] != -1, "the fixture tree needs depth >= 2"
    return child


def test_an_out_of_range_child_is_refused(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    _tamper(forest.estimators_[1].tree_, "left_child", 0, 10**6)
    km.save(forest, tmp_path / "pkg")  # no example: predict on a crafted tree is what we must never do
    with pytest.raises(UnsafeTree, match=r"estimators_\[1\].*node 0 has children 1000000"):
        km.load(tmp_path / "pkg")


def test_a_cycle_is_refused(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    tree_model = DecisionTreeClassifier(random_state=0).fit(X, y)
    child = _first_inner_child(tree_model.tree_)
    _tamper(tree_model.tree_, "right_child", child, 0)  # back to the root: predict would loop forever
    km.save(tree_model, tmp_path / "pkg")
    with pytest.raises(UnsafeTree, match=rf"node {child} has children .* 0; children must come after"):
        km.load(tmp_path / "pkg")


def test_an_out_of_range_feature_is_refused(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    tree_model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    _tamper(tree_model.tree_, "feature", 0, 30)  # 30 features: indices 0..29
    km.save(tree_model, tmp_path / "pkg")
    with pytest.raises(UnsafeTree, match=r"node 0 splits on feature 30; the model has 30 features"):
        km.load(tmp_path / "pkg")


def test_a_hist_gradient_boosting_cycle_is_refused(cancer: Any, tmp_path: Path) -> None:
    X, y = cancer
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, y)
    predictor = model._predictors[2][0]
    predictor.nodes["left"][0] = 0  # the root is its own child
    km.save(model, tmp_path / "pkg")
    with pytest.raises(UnsafeTree, match=r"_predictors\[2\]\[0\].*node 0 has children 0"):
        km.load(tmp_path / "pkg")


def test_a_one_child_node_is_refused(cancer: Any) -> None:
    X, y = cancer
    tree_model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    _tamper(tree_model.tree_, "left_child", 0, -1)
    with pytest.raises(UnsafeTree, match=r"node 0 has one child only"):
        vouch(tree_model)
