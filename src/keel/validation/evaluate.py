"""Model validation on labelled rows: metrics, the project's KPIs, the champion, slices and fairness.

Works on loaded packages (:class:`keel.models.Model`) and a pandas frame, so
the service only fetches and stores. A package that carries its
preprocessing (:mod:`keel.validation.parity`) is fed the prepared features,
as the model server would feed it; otherwise the columns its signature
names. The champion is a second loaded package, resolved by the caller
through the registry, run on the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from keel.core.errors import InvalidInput
from keel.core.kpi import KPI, KPIReport, evaluate_kpis
from keel.models.load import Model
from keel.validation.fairness import DISPARITIES, fairness
from keel.validation.metrics import DEFAULT_COMPARE, Task, improvement, infer_task, model_metrics
from keel.validation.model_schemas import ChampionComparison, FairnessReport, SliceMetrics
from keel.validation.parity import load_preprocessing

#: Values of one slice column measured separately (beyond this the column is refused as a slice).
MAX_SLICE_VALUES: Final = 50


@dataclass
class Predictions:
    """One model's answers on the rows: labels, and class probabilities when it has them."""

    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: list[Any]


@dataclass
class Evaluation:
    """What :func:`evaluate` measured; the service turns it into a stored report."""

    task: Task
    metrics: dict[str, float]
    kpi_report: KPIReport
    champion: ChampionComparison | None = None
    slices: list[SliceMetrics] = field(default_factory=list)
    fairness: list[FairnessReport] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def features(model: Model, frame: Any, exclude: set[str]) -> Any:
    """The model's input from raw rows: its own preprocessing's output, else the columns its signature names."""
    loaded = load_preprocessing(model)
    if loaded is not None:
        prep, doc = loaded
        missing = [c for c in doc["raw"]["columns"] if c not in frame.columns]
        if missing:
            raise InvalidInput(
                f"the data lacks column(s) {', '.join(missing)} the model's preprocessing reads"
            )
        return prep.transform(frame[doc["raw"]["columns"]])[0]
    signature = model.signature
    if signature is not None and signature.inputs.columns is not None:
        names = [c.name for c in signature.inputs.columns]
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise InvalidInput(f"the data lacks column(s) {', '.join(missing)} the model's signature names")
        return frame[names]
    return frame.drop(columns=[c for c in exclude if c in frame.columns])


def predict(model: Model, X: Any, y_true: np.ndarray) -> Predictions:
    """The model's predictions (and probabilities) on ``X``."""
    try:
        y_pred = np.asarray(model.predict(X)).reshape(-1)
        proba = np.asarray(model.predict_proba(X)) if hasattr(model.raw, "predict_proba") else None
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"the model could not predict on the data: {type(exc).__name__}: {exc}") from None
    classes = list(getattr(model.raw, "classes_", []))
    if not classes:
        classes = sorted(set(np.unique(y_true).tolist()) | set(np.unique(y_pred).tolist()))
    return Predictions(y_pred=y_pred, proba=proba, classes=classes)


def labels(frame: Any, column: str) -> np.ndarray:
    """The label column as an array; InvalidInput for a missing column or rows without a label."""
    if column not in frame.columns:
        raise InvalidInput(f"the data has no label column {column!r}", hint="name it with label=")
    series = frame[column]
    if series.isna().any():
        raise InvalidInput(f"{int(series.isna().sum())} row(s) have no label in column {column!r}")
    values: np.ndarray = series.to_numpy()
    if values.dtype.kind == "b":
        values = values.astype(np.int64)  # a classifier fitted on 0/1 compares equal to True/False
    return values


def _binary(values: np.ndarray, positive: Any) -> np.ndarray:
    flags: np.ndarray = (values == positive).astype(np.int64)
    return flags


def evaluate(
    model: Model,
    frame: Any,
    *,
    label: str,
    kpis: list[KPI],
    sensitive: list[str],
    slices: list[str],
    champion: tuple[Model, str, str] | None = None,
    min_improvement: float = 0.0,
    compare_metric: str | None = None,
    fairness_at_upper_bound: bool = False,
    n_boot: int = 1000,
    task: Task | None = None,
) -> Evaluation:
    """Measure ``model`` on ``frame``; ``champion`` is (loaded package, its digest, its label)."""
    if len(frame) == 0:
        raise InvalidInput("the data has no rows to validate the model on")
    group_columns = sorted({*sensitive, *(k.group for k in kpis if k.group)})
    slice_columns = sorted({*slices, *(k.slice.partition(":")[0] for k in kpis if k.slice)})
    for column in [*group_columns, *slice_columns]:
        if column not in frame.columns:
            raise InvalidInput(f"the data has no column {column!r} (named as a sensitive or slice column)")
    y_true = labels(frame, label)
    exclude = {label, *group_columns}
    ours = predict(model, features(model, frame, exclude), y_true)
    task = task or infer_task(y_true, ours.proba is not None)
    metrics = model_metrics(task, y_true, ours.y_pred, ours.proba, ours.classes)
    kpi_values = dict(metrics)
    out = Evaluation(task=task, metrics=metrics, kpi_report=KPIReport(results=[]))
    for column in slice_columns:
        values = frame[column].astype(str).to_numpy()
        distinct = np.unique(values)
        if distinct.size > MAX_SLICE_VALUES:
            raise InvalidInput(
                f"slice column {column!r} has {distinct.size} values; at most {MAX_SLICE_VALUES}"
            )
        for value in distinct.tolist():
            mask = values == value
            proba = ours.proba[mask] if ours.proba is not None else None
            sliced = model_metrics(task, y_true[mask], ours.y_pred[mask], proba, ours.classes)
            out.slices.append(SliceMetrics(column=column, value=value, rows=int(mask.sum()), metrics=sliced))
            kpi_values.update({f"{m}.{column}.{value}": v for m, v in sliced.items()})
    if group_columns:
        if task != "classification" or len(ours.classes) != 2:
            raise InvalidInput("fairness metrics need a binary classifier; this model is not one")
        positive = ours.classes[-1]
        for column in group_columns:
            report = fairness(
                _binary(y_true, positive),
                _binary(ours.y_pred, positive),
                frame[column].to_numpy(dtype=object),
                column=column,
                n_boot=n_boot,
            )
            out.fairness.append(report)
            for name in DISPARITIES:
                est = report.disparities[name]
                value = est.value
                if fairness_at_upper_bound and est.high is not None:
                    value = est.high if name.endswith("difference") else (est.low or est.value)
                kpi_values[f"{name}.{column}"] = value
    out.kpi_report = evaluate_kpis(kpis, kpi_values, stage="offline")
    out.failed = [
        f"KPI {r.kpi} ({r.status}" + ("" if r.value is None else f", value {r.value:.4g}") + ")"
        for r in out.kpi_report.results
        if r.status != "met"
    ]
    if champion is not None:
        out.champion = _compare(out, champion, frame, exclude, y_true, task, min_improvement, compare_metric)
        if not out.champion.passed:
            out.failed.append(
                f"champion {out.champion.label}: {out.champion.metric} improvement "
                f"{out.champion.improvement} < {out.champion.min_improvement}"
            )
    return out


def _compare(
    out: Evaluation,
    champion: tuple[Model, str, str],
    frame: Any,
    exclude: set[str],
    y_true: np.ndarray,
    task: Task,
    min_improvement: float,
    compare_metric: str | None,
) -> ChampionComparison:
    model, digest, label = champion
    theirs = predict(model, features(model, frame, exclude), y_true)
    their_metrics = model_metrics(task, y_true, theirs.y_pred, theirs.proba, theirs.classes)
    metric = compare_metric or DEFAULT_COMPARE[task]
    if metric not in out.metrics and compare_metric is None and task == "classification":
        metric = "accuracy"  # no probabilities: compare on accuracy
    ours, theirs_value = out.metrics.get(metric), their_metrics.get(metric)
    gain = improvement(metric, ours, theirs_value) if ours is not None and theirs_value is not None else None
    return ChampionComparison(
        package=digest,
        label=label,
        metric=metric,
        candidate=ours,
        champion=theirs_value,
        improvement=gain,
        min_improvement=min_improvement,
        passed=gain is not None and gain >= min_improvement,
        metrics=their_metrics,
    )
