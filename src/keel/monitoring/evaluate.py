"""Judge one window against a monitor's stored reference: covariate shift, prior shift, live KPIs, figures.

A window arrives as one Arrow table with the monitored features under their
own names, the model's answers in :data:`PREDICTION` and ground truth (where
it arrived) in :data:`LABEL`; :func:`from_prediction_log` and
:func:`from_batch` put the two sources in that shape. Features form one
family of tests (corrected together); prediction drift and label drift are
judged on their own, each against the reference's label distribution (or its
prediction column when the reference has one): prior shift in the model's
answers shows before labels arrive, and in the labels once they do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from keel.core.errors import InvalidInput
from keel.core.kpi import KPI, evaluate_kpis
from keel.monitoring.schemas import InfraFigures, KPIFigures, Monitor
from keel.stats.drift import DriftResult, FeatureDrift, detect
from keel.stats.drift_reference import ColumnReference, FeatureKind, build_reference, default_kind

PREDICTION: Final = "__prediction__"
LABEL: Final = "__label__"
#: An integer target with at most this many distinct values is a class label (categorical).
MAX_CLASSES: Final = 20


def target_kind(column: pa.ChunkedArray) -> FeatureKind:
    """A label or prediction column's kind: classes (few distinct integers, strings, booleans) or numbers."""
    kind = default_kind(column.type)
    if kind is None:
        raise InvalidInput(f"a label or prediction column of type {column.type} cannot be tested")
    if kind == "numeric" and pat.is_integer(column.type):
        distinct = pc.count_distinct(column).as_py()
        if distinct <= MAX_CLASSES:
            return "categorical"
    return kind


def build_monitor_reference(
    table: pa.Table,
    features: Sequence[str],
    kinds: Mapping[str, FeatureKind],
    prediction: str | None,
    label: str | None,
) -> dict[str, ColumnReference]:
    """Reference statistics of the features, plus the prediction and label references when named.

    Raises InvalidInput naming a column the reference lacks or cannot test.
    """
    try:
        refs = build_reference(table, features, kinds)
        for role, column in ((PREDICTION, prediction or label), (LABEL, label)):
            if column is None:
                continue
            if column not in table.column_names:
                raise ValueError(
                    f"the reference has no column {column!r} (it has {', '.join(table.column_names)})"
                )
            source = table.column(column)
            kind = target_kind(source)
            refs[role] = build_reference(pa.table({role: _as_classes(source, kind)}), [role], {role: kind})[
                role
            ]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return refs


def _as_classes(column: pa.ChunkedArray | pa.Array, kind: FeatureKind) -> pa.ChunkedArray | pa.Array:
    """Integral floats and booleans as integers, so class ``1`` reads the same in labels and answers."""
    if kind != "categorical":
        return column
    if pat.is_boolean(column.type):
        return pc.cast(column, pa.int64())
    if not pat.is_floating(column.type):
        return column
    values = column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column.to_numpy()
    finite = values[~np.isnan(values)]
    if finite.size and np.all(finite == np.round(finite)):
        return pc.cast(column, pa.int64())
    return column


def from_prediction_log(window: pa.Table, monitor: Monitor) -> pa.Table:
    """The prediction log's window (``input.<f>``, ``output``, ``label``) in the shape :func:`judge` takes."""
    columns: dict[str, Any] = {}
    for feature in monitor.features:
        name = f"input.{feature}"
        if name in window.column_names:
            columns[feature] = window.column(name)
        elif window.num_rows:
            raise InvalidInput(
                f"the prediction log of {monitor.deployment!r} has no input column {feature!r}"
            )
        else:
            columns[feature] = pa.array([], pa.float64())
    if "output" in window.column_names and not pat.is_list(window.column("output").type):
        columns[PREDICTION] = window.column("output")
    if "label" in window.column_names and not pat.is_null(window.column("label").type):
        columns[LABEL] = window.column("label")
    return pa.table(columns)


def from_batch(batch: pa.Table, monitor: Monitor) -> pa.Table:
    """Uploaded rows in the shape :func:`judge` takes: predictions in ``prediction`` (or the monitor's
    prediction column), labels in the monitor's label column, when present."""
    columns: dict[str, Any] = {f: batch.column(f) for f in monitor.features if f in batch.column_names}
    missing = [f for f in monitor.features if f not in batch.column_names]
    if missing:
        raise InvalidInput(f"the batch lacks the monitored column(s) {', '.join(missing)}")
    for role, names in ((PREDICTION, (monitor.prediction, "prediction")), (LABEL, (monitor.label,))):
        for name in names:
            if name and name in batch.column_names and role not in columns:
                columns[role] = batch.column(name)
    return pa.table(columns)


def _single(
    refs: Mapping[str, ColumnReference], role: str, column: pa.ChunkedArray, alpha: float
) -> FeatureDrift:
    reference = refs[role]
    values = _as_classes(column, reference.kind)
    return detect({role: reference}, pa.table({role: values}), alpha=alpha, correction="none").features[0]


def judge(
    refs: Mapping[str, ColumnReference], window: pa.Table, monitor: Monitor
) -> tuple[DriftResult, FeatureDrift | None, FeatureDrift | None, list[str]]:
    """Feature drift, prediction drift and label drift of a window, with notes on what could not be judged."""
    features = {name: refs[name] for name in monitor.features}
    drift = detect(
        features,
        window.select(monitor.features),
        alpha=monitor.alpha,
        correction=monitor.correction,
        tests=monitor.tests,
    )
    notes: list[str] = []
    prediction = label = None
    if PREDICTION in refs and PREDICTION in window.column_names:
        prediction = _single(refs, PREDICTION, window.column(PREDICTION), monitor.alpha)
        if monitor.prediction is None:
            notes.append(
                "predictions judged against the reference's label distribution (it has no prediction column); "
                "a classifier's answers need not match it"
            )
    elif PREDICTION in refs:
        notes.append("prediction drift not judged: the window carries no predictions")
    labels = window.column(LABEL).drop_null() if LABEL in window.column_names else None
    if LABEL in refs and labels is not None and len(labels):
        label = _single(refs, LABEL, labels, monitor.alpha)
    elif LABEL in refs:
        notes.append("label drift and live KPIs not judged: no labels have arrived for this window")
    return drift, prediction, label, notes


def live_kpis(window: pa.Table, kpis: Sequence[KPI]) -> KPIFigures | None:
    """The project's online KPIs over the window's labelled rows (None when no row is labelled yet).

    Classification (labels are classes): accuracy, precision, recall, f1
    (binary: of the positive class; else macro); regression: mae, rmse, r2.
    """
    if PREDICTION not in window.column_names or LABEL not in window.column_names:
        return None
    labeled = window.filter(pc.and_(pc.is_valid(window[LABEL]), pc.is_valid(window[PREDICTION])))
    if labeled.num_rows == 0:
        return None
    kind = target_kind(labeled.column(LABEL))
    truth = _as_classes(labeled.column(LABEL), kind).to_numpy(zero_copy_only=False)
    guess = _as_classes(labeled.column(PREDICTION), kind).to_numpy(zero_copy_only=False)
    metrics = (
        classification_metrics(truth, guess) if kind == "categorical" else regression_metrics(truth, guess)
    )
    return KPIFigures(
        labeled=labeled.num_rows, metrics=metrics, report=evaluate_kpis(kpis, metrics, stage="online")
    )


def classification_metrics(truth: np.ndarray, guess: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of class answers against labels."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    truth = np.asarray([str(v) for v in truth])
    guess = np.asarray([str(v) for v in guess])
    classes = sorted(set(truth) | set(guess))
    binary = len(classes) <= 2 and set(classes) <= {"0", "1", "false", "true", "False", "True"}
    positive = next((c for c in ("1", "true", "True") if c in classes), None)
    if binary and positive is not None:
        p, r, f, _ = precision_recall_fscore_support(
            truth, guess, average="binary", pos_label=positive, zero_division=0
        )
    else:
        p, r, f, _ = precision_recall_fscore_support(truth, guess, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(truth, guess)),
        "precision": float(p),
        "recall": float(r),
        "f1": float(f),
    }


def regression_metrics(truth: np.ndarray, guess: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R² of numeric answers against labels."""
    y, p = np.asarray(truth, dtype=np.float64), np.asarray(guess, dtype=np.float64)
    error = p - y
    spread = float(((y - y.mean()) ** 2).sum())
    return {
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "r2": float(1.0 - (error**2).sum() / spread) if spread else float("nan"),
    }


def figures(
    drift: DriftResult,
    prediction: FeatureDrift | None,
    label: FeatureDrift | None,
    kpis: KPIFigures | None,
    infra: InfraFigures | None,
) -> dict[str, float]:
    """Every figure of an evaluation by name: what alert rules and ``/metrics`` read."""
    out: dict[str, float] = {
        "rows": float(drift.rows),
        "drift.share": drift.share,
        "drift.count": float(len(drift.drifted)),
        "drift.detected": float(bool(drift.drifted)),
    }
    for feature in drift.features:
        out[f"feature.{feature.name}.drifted"] = float(feature.drifted)
        if feature.tests:
            out[f"feature.{feature.name}.effect"] = feature.tests[0].effect
            if feature.tests[0].adjusted_p is not None:
                out[f"feature.{feature.name}.p_value"] = feature.tests[0].adjusted_p
        out[f"feature.{feature.name}.missing_share"] = feature.current_missing_share
    for role, found in (("prediction", prediction), ("label", label)):
        if found is not None:
            out[f"{role}.drifted"] = float(found.drifted)
            if found.tests:
                out[f"{role}.effect"] = found.tests[0].effect
    if kpis is not None:
        out["kpi.labeled"] = float(kpis.labeled)
        out["kpi.passed"] = float(kpis.report.passed)
        for name, value in kpis.metrics.items():
            out[f"kpi.{name}"] = value
    if infra is not None:
        out["infra.requests"] = float(infra.requests)
        out["infra.throughput_rps"] = infra.throughput_rps
        for name in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
            value = getattr(infra, name)
            if value is not None:
                out[f"infra.{name}"] = value
    return {k: v for k, v in out.items() if np.isfinite(v)}


def figure_names(monitor: Monitor) -> list[str]:
    """Every figure a monitor's evaluations can carry (what a rule may name)."""
    names = ["rows", "drift.share", "drift.count", "drift.detected"]
    for feature in monitor.features:
        names += [f"feature.{feature}.{part}" for part in ("drifted", "effect", "p_value", "missing_share")]
    if monitor.prediction or monitor.label:
        names += ["prediction.drifted", "prediction.effect"]
    if monitor.label:
        names += ["label.drifted", "label.effect", "kpi.labeled", "kpi.passed"]
        names += [f"kpi.{m}" for m in ("accuracy", "precision", "recall", "f1", "mae", "rmse", "r2")]
    if monitor.multivariate:
        names += ["multivariate.auc", "multivariate.drifted"]
    if monitor.deployment:
        names += ["infra.requests", "infra.throughput_rps", "infra.latency_p50_ms"]
        names += ["infra.latency_p95_ms", "infra.latency_p99_ms"]
    return names
