"""Multivariate drift: can a classifier tell reference rows from window rows?

Per-feature tests miss a change in how features go together (each column
looks the same; their joint distribution moved). A gradient-boosting domain
classifier is trained to tell reference rows (label 0) from window rows
(label 1); its out-of-fold AUC is near 0.5 when it cannot. The AUC is judged
against a permutation baseline: the same out-of-fold scores with the labels
shuffled, so the verdict says how often an AUC this high arises by chance
for these sample sizes, with no threshold to tune.

Costs a model fit per fold (seconds at the default 5,000 rows a side), which
is why monitors run it only on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from keel.stats.schema import column_kind


class DomainResult(BaseModel):
    """The domain classifier's out-of-fold AUC, its permutation baseline, and the verdict."""

    auc: float
    baseline_mean: float
    baseline_p95: float
    p_value: float
    drifted: bool
    reference_rows: int
    current_rows: int
    top_features: dict[str, float] = {}


def _sample(table: pa.Table, rows: int, rng: np.random.Generator) -> pa.Table:
    if table.num_rows <= rows:
        return table
    return table.take(pa.array(np.sort(rng.choice(table.num_rows, rows, replace=False))))


def _encode(
    reference: pa.Table, current: pa.Table, features: Sequence[str]
) -> tuple[npt.NDArray[np.float64], list[bool]]:
    """Both tables' features as one float matrix (categories as codes shared by both) and which are categorical."""
    columns: list[npt.NDArray[np.float64]] = []
    categorical: list[bool] = []
    for name in features:
        both = pa.chunked_array(reference.column(name).chunks + current.column(name).chunks)
        kind = column_kind(both.type)
        if kind in ("integer", "float", "boolean"):
            values = pc.cast(both, pa.float64()).to_numpy(zero_copy_only=False)
            columns.append(np.asarray(values, dtype=np.float64))
            categorical.append(False)
        else:
            encoded = pc.dictionary_encode(pc.cast(both, pa.string())).combine_chunks()
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.float64)
            codes[~np.asarray(encoded.is_valid())] = np.nan
            columns.append(codes)
            categorical.append(True)
    return np.column_stack(columns), categorical


def _auc(ranks: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
    """AUC from score ranks for one or many label vectors (rows of ``labels``), by Mann-Whitney's U."""
    positives = labels.sum(axis=-1)
    negatives = labels.shape[-1] - positives
    u = (ranks * labels).sum(axis=-1) - positives * (positives + 1) / 2
    result: npt.NDArray[np.float64] = u / (positives * negatives)
    return result


def _importances(
    model: Any, X: npt.NDArray[np.float64], y: npt.NDArray[np.bool_], features: Sequence[str], seed: int
) -> dict[str, float]:
    """Which features tell the two apart: the drop in (in-sample) AUC when one is shuffled; the top five."""
    from sklearn.inspection import permutation_importance

    found = permutation_importance(model, X, y, scoring="roc_auc", n_repeats=1, random_state=seed)
    ranked = sorted(zip(features, found.importances_mean, strict=True), key=lambda kv: -kv[1])
    return {name: float(value) for name, value in ranked[:5] if value > 0}


def domain_classifier(
    reference: pa.Table,
    current: pa.Table,
    features: Sequence[str],
    *,
    alpha: float = 0.05,
    max_rows: int = 5000,
    permutations: int = 200,
    seed: int = 0,
) -> DomainResult:
    """Train a classifier to tell the window from the reference; drifted when its AUC beats the baseline.

    Raises ValueError when either side has fewer than 20 rows (too few to
    split into folds).
    """
    from scipy.stats import rankdata
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    rng = np.random.default_rng(seed)
    ref, cur = _sample(reference, max_rows, rng), _sample(current, max_rows, rng)
    if ref.num_rows < 20 or cur.num_rows < 20:
        raise ValueError("the domain classifier needs at least 20 rows on each side")
    X, categorical = _encode(ref, cur, features)
    y = np.r_[np.zeros(ref.num_rows, dtype=bool), np.ones(cur.num_rows, dtype=bool)]
    model = HistGradientBoostingClassifier(
        max_iter=50,
        max_leaf_nodes=15,
        learning_rate=0.2,
        early_stopping=False,
        categorical_features=np.array(categorical),
        random_state=seed,
    )
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    # One OpenMP thread: fits of a few thousand rows gain little from threads, and OpenMP's spinning
    # barriers made them many times slower on a machine whose cores other processes were using.
    with threadpool_limits(limits=1, user_api="openmp"):
        scores: Any = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
        model.fit(X, y)
        importances = _importances(model, X, y, features, seed)
    ranks = np.asarray(rankdata(scores), dtype=np.float64)
    auc = float(_auc(ranks, y))
    shuffled = np.array([rng.permutation(y) for _ in range(permutations)])
    baseline = _auc(ranks, shuffled)
    p_value = float((1 + np.sum(baseline >= auc)) / (1 + permutations))
    top = importances if p_value < alpha else {}
    return DomainResult(
        auc=auc,
        baseline_mean=float(baseline.mean()),
        baseline_p95=float(np.quantile(baseline, 0.95)),
        p_value=p_value,
        drifted=p_value < alpha,
        reference_rows=ref.num_rows,
        current_rows=cur.num_rows,
        top_features=top,
    )
