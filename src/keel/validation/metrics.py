"""Model metrics on labelled rows: classification and regression, from scikit-learn's metric functions.

Pure functions over arrays. A metric that is undefined on the data (ROC AUC
with one class present, say) is left out rather than reported as NaN, so a
KPI on it counts as not measured instead of passing or failing by accident.
"""

from __future__ import annotations

import warnings
from typing import Any, Final, Literal

import numpy as np

from keel.core.errors import InvalidInput

Task = Literal["classification", "regression"]

#: Metrics where a smaller value is better (for the champion comparison).
LOWER_IS_BETTER: Final = frozenset({"log_loss", "calibration_error", "mae", "rmse"})
#: The metric the champion is compared on when the project names none.
DEFAULT_COMPARE: Final[dict[str, str]] = {"classification": "roc_auc", "regression": "rmse"}


def infer_task(y_true: np.ndarray, has_proba: bool) -> Task:
    """Classification for labels that are text, booleans, or few integers a classifier predicts."""
    if y_true.dtype.kind in "OUSb" or has_proba:
        return "classification"
    if y_true.dtype.kind in "iu" and np.unique(y_true).size <= 20:
        return "classification"
    return "regression"


def calibration_error(correct: np.ndarray, confidence: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: the row-weighted gap between confidence and accuracy over equal-width bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.mean() * abs(float(correct[mask].mean()) - float(confidence[mask].mean()))
    return total


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (binary: of the last class; else macro), ROC AUC, log loss, ECE."""
    from sklearn import metrics as m

    binary = len(classes) == 2
    options: dict[str, Any] = {"pos_label": classes[-1]} if binary else {"average": "macro"}
    out: dict[str, float] = {"accuracy": float(m.accuracy_score(y_true, y_pred))}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["precision"] = float(m.precision_score(y_true, y_pred, zero_division=0, **options))
        out["recall"] = float(m.recall_score(y_true, y_pred, zero_division=0, **options))
        out["f1"] = float(m.f1_score(y_true, y_pred, zero_division=0, **options))
    if proba is None:
        return out
    present = np.unique(y_true)
    if present.size > 1:
        try:
            if binary:
                out["roc_auc"] = float(m.roc_auc_score(y_true == classes[-1], proba[:, -1]))
            elif present.size == len(classes):
                out["roc_auc"] = float(m.roc_auc_score(y_true, proba, multi_class="ovr", labels=classes))
        except ValueError:
            pass
    out["log_loss"] = float(m.log_loss(y_true, proba, labels=classes))
    if binary:
        out["calibration_error"] = calibration_error((y_true == classes[-1]).astype(float), proba[:, -1])
    else:
        picked = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        out["calibration_error"] = calibration_error((picked == y_true).astype(float), proba.max(axis=1))
    return out


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² (R² only with two rows or more)."""
    from sklearn import metrics as m

    y_true = y_true.astype(float)
    y_pred = np.asarray(y_pred, dtype=float).reshape(-1)
    out = {
        "mae": float(m.mean_absolute_error(y_true, y_pred)),
        "rmse": float(np.sqrt(m.mean_squared_error(y_true, y_pred))),
    }
    if y_true.size > 1:
        out["r2"] = float(m.r2_score(y_true, y_pred))
    return out


def model_metrics(
    task: Task, y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray | None, classes: list[Any]
) -> dict[str, float]:
    """The task's metrics; InvalidInput for no rows."""
    if y_true.size == 0:
        raise InvalidInput("no labelled rows to compute metrics on")
    if task == "classification":
        return classification_metrics(y_true, y_pred, proba, classes)
    return regression_metrics(y_true, y_pred)


def improvement(metric: str, candidate: float, champion: float) -> float:
    """How much better the candidate is on ``metric`` (positive: better), whichever way the metric points."""
    return champion - candidate if metric in LOWER_IS_BETTER else candidate - champion
