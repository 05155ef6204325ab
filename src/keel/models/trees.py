"""Keel vouches for tree node storage: every tree of a loaded model is checked before it is used.

skops refuses ``sklearn.tree._tree.Tree`` (and HistGradientBoosting's
``TreePredictor``) by default because their node arrays are trusted by the
compiled ``predict``: a child index out of range reads outside the array, a
child pointing back up loops forever. scikit-learn builds every tree in
pre-order (a node is written before its children), so a sound tree has
children strictly after their parent and inside the node array; that rule
rules out cycles too. :func:`vouch` walks the loaded object, checks every
tree against it (plus feature indices, value shapes and categorical bitset
indices) and refuses the whole model on the first bad node, naming it.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from keel.core.errors import UnsafeTree  # in the one error tree, so a remote client rebuilds it

#: The classes whose node storage this module checks: only these are trusted beyond skops' defaults.
VOUCHED_TYPES: Final = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)
_LEAF: Final = -1


def _qualname(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _check_children(left: np.ndarray, right: np.ndarray, leaf: np.ndarray, where: str) -> None:
    n = len(left)
    index = np.arange(n)
    inner = ~leaf
    bad = inner & ((left <= index) | (right <= index) | (left >= n) | (right >= n))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UnsafeTree(
            f"{where}: node {i} has children {int(left[i])} and {int(right[i])}; children must come after "
            f"their parent and lie within the {n} nodes (an index out of range or a cycle)"
        )


def check_tree(tree: Any, n_features: int | None, where: str) -> None:
    """Refuse a ``sklearn.tree._tree.Tree`` whose nodes are out of range, cyclic or misshapen."""
    n = int(tree.node_count)
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not (len(left) == len(right) == len(feature) == n) or n < 1:
        raise UnsafeTree(f"{where}: node arrays disagree with node_count {n}")
    value = np.asarray(tree.value)
    want = (n, int(tree.n_outputs), int(tree.max_n_classes))
    if value.shape != want:
        raise UnsafeTree(f"{where}: values have shape {list(value.shape)}, expected {list(want)}")
    leaf = left == _LEAF
    if (leaf & (right != _LEAF)).any():
        i = int(np.flatnonzero(leaf & (right != _LEAF))[0])
        raise UnsafeTree(f"{where}: node {i} has one child only")
    _check_children(left, right, leaf, where)
    limit = int(tree.n_features) if n_features is None else min(int(tree.n_features), n_features)
    bad = ~leaf & ((feature < 0) | (feature >= limit))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UnsafeTree(
            f"{where}: node {i} splits on feature {int(feature[i])}; the model has {limit} features"
        )


def check_predictor(predictor: Any, n_features: int | None, where: str) -> None:
    """Refuse a HistGradientBoosting ``TreePredictor`` whose nodes are out of range or cyclic."""
    nodes = predictor.nodes
    if len(nodes) < 1:
        raise UnsafeTree(f"{where}: the predictor has no nodes")
    leaf = nodes["is_leaf"].astype(bool)
    left = nodes["left"].astype(np.int64)
    right = nodes["right"].astype(np.int64)
    _check_children(left, right, leaf, where)
    feature = nodes["feature_idx"].astype(np.int64)
    if n_features is None:
        raise UnsafeTree(f"{where}: a tree predictor outside an estimator that states its feature count")
    bad = ~leaf & ((feature < 0) | (feature >= n_features))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise UnsafeTree(f"{where}: node {i} splits on feature {int(feature[i])}; the model has {n_features}")
    categorical = ~leaf & nodes["is_categorical"].astype(bool)
    if categorical.any():
        bitsets = min(len(predictor.binned_left_cat_bitsets), len(predictor.raw_left_cat_bitsets))
        index = nodes["bitset_idx"].astype(np.int64)
        bad = categorical & ((index < 0) | (index >= bitsets))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise UnsafeTree(f"{where}: node {i} names categorical bitset {int(index[i])} of {bitsets}")


def _children(obj: Any) -> list[tuple[str, Any]]:
    if isinstance(obj, dict):
        return [(f"[{k!r}]", v) for k, v in obj.items()]
    if isinstance(obj, list | tuple):
        return [(f"[{i}]", v) for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return [(f"[{i}]", v) for i, v in enumerate(obj.ravel())] if obj.dtype == object else []
    attrs = getattr(obj, "__dict__", None)
    return [(f".{k}", v) for k, v in attrs.items()] if isinstance(attrs, dict) else []


def vouch(model: Any) -> int:
    """Check every tree reachable from ``model``; returns how many were checked, UnsafeTree on a bad one."""
    seen: set[int] = set()
    checked = 0
    stack: list[tuple[Any, str, int | None]] = [(model, "model", getattr(model, "n_features_in_", None))]
    while stack:
        obj, where, n_features = stack.pop()
        if id(obj) in seen or isinstance(obj, str | bytes | int | float | bool | type(None)):
            continue
        seen.add(id(obj))
        name = _qualname(obj)
        if name == VOUCHED_TYPES[0]:
            check_tree(obj, n_features, where)
            checked += 1
            continue
        if name == VOUCHED_TYPES[1]:
            check_predictor(obj, n_features, where)
            checked += 1
            continue
        own = (
            getattr(obj, "n_features_in_", None)
            if not isinstance(obj, dict | list | tuple | np.ndarray)
            else None
        )
        inherited = int(own) if isinstance(own, int | np.integer) else n_features
        stack.extend((child, where + step, inherited) for step, child in _children(obj))
    return checked
