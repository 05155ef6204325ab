"""The quickstart's experimentation stage: a few real scikit-learn runs on the customer table.

Each run logs its params, per-step validation metrics (the learning curve),
and the final metrics the project's KPIs read -- ``accuracy``, ``roc_auc``
and ``demographic_parity_difference.gender`` (the gap in positive-prediction
rate between genders; gender is not a feature). Missing values are filled with training medians. The runs are then compared.
scikit-learn and pandas are imported here only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.tracking.active import ActiveRun
from keel.tracking.compare import compare, rows
from keel.tracking.logger import RunLogger
from keel.tracking.schemas import RunRecord

FEATURES_NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
FEATURES_CATEGORICAL = ["region", "plan", "contract", "payment_method"]


def _prepare(table: Any) -> tuple[Any, ...]:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    frame = table.to_pandas()
    X = pd.get_dummies(
        frame[FEATURES_NUMERIC + FEATURES_CATEGORICAL], columns=FEATURES_CATEGORICAL, dtype=float
    )
    y = frame["churned"].astype(int).to_numpy()
    gender = frame["gender"].to_numpy()
    X_train, X_val, y_train, y_val, g_train, g_val = train_test_split(
        X, y, gender, test_size=0.25, random_state=0, stratify=y
    )
    medians = X_train.median()  # the table has missing values; fill with training medians
    return X_train.fillna(medians), X_val.fillna(medians), y_train, y_val, g_train, g_val


def _final_metrics(model: Any, X_val: Any, y_val: Any, gender_val: Any) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    proba = model.predict_proba(X_val)[:, 1]
    predicted = (proba >= 0.5).astype(int)
    rates = [predicted[gender_val == g].mean() for g in sorted(set(gender_val)) if (gender_val == g).any()]
    return {
        "accuracy": float(accuracy_score(y_val, predicted)),
        "roc_auc": float(roc_auc_score(y_val, proba)),
        "demographic_parity_difference.gender": float(max(rates) - min(rates)),
    }


def _train_sgd(run: ActiveRun, data: tuple[Any, ...], epochs: int) -> Any:
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, X_val, y_train, y_val = data[0], data[1], data[2], data[3]
    scaler = StandardScaler().fit(X_train)
    model = SGDClassifier(loss="log_loss", alpha=1e-3, random_state=0)
    for epoch in range(epochs):
        model.partial_fit(scaler.transform(X_train), y_train, classes=[0, 1])
        proba = model.predict_proba(scaler.transform(X_val))[:, 1]
        run.log_metrics(
            {"val_log_loss": log_loss(y_val, proba), "val_roc_auc": roc_auc_score(y_val, proba)}, step=epoch
        )
    return make_pipeline(scaler, model)


def _train_gbm(run: ActiveRun, data: tuple[Any, ...], depth: int, stages: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import log_loss, roc_auc_score

    X_train, X_val, y_train, y_val = data[0], data[1], data[2], data[3]
    model = GradientBoostingClassifier(
        max_depth=depth, n_estimators=stages, learning_rate=0.1, random_state=0
    )
    model.fit(X_train, y_train)
    for stage, proba in enumerate(model.staged_predict_proba(X_val)):
        run.log_metrics(
            {"val_log_loss": log_loss(y_val, proba[:, 1]), "val_roc_auc": roc_auc_score(y_val, proba[:, 1])},
            step=stage,
        )
    return model


def train_demo_runs(
    runs: Any,
    project: str,
    table: Any,
    say: Callable[[str], None],
    number: int,
    uses: str | None = None,
    models: dict[str, tuple[Any, Any]] | None = None,
) -> list[RunRecord]:
    """Train, log and compare three models; print what was done; return the ended runs.

    ``uses`` (a dataset address such as ``churn-train@v1``) is recorded as each run's input.
    ``models``, when given, receives each run's fitted model and an input example by run id,
    so the caller can package the winner without training it again.
    """
    data = _prepare(table)
    configs: list[tuple[str, dict[str, Any]]] = [
        ("sgd-logistic", {"model": "SGDClassifier", "loss": "log_loss", "alpha": 1e-3, "epochs": 20}),
        (
            "gbm-depth2",
            {"model": "GradientBoostingClassifier", "max_depth": 2, "n_estimators": 60, "lr": 0.1},
        ),
        (
            "gbm-depth4",
            {"model": "GradientBoostingClassifier", "max_depth": 4, "n_estimators": 60, "lr": 0.1},
        ),
    ]
    ended: list[RunRecord] = []
    n_train, n_val = len(data[2]), len(data[3])
    say(
        f"{number}. Trained {len(configs)} models ({n_train:,} rows, {n_val:,} held out), each a run with per-step metrics:"
    )
    for name, params in configs:
        info = runs.create(project=project, name=name, params=params, tags={"stage": "quickstart"})
        run = ActiveRun(runs, info, logger=RunLogger(info.id, runs.log_batch))
        try:
            if uses is not None:
                run.use_dataset(uses)
            if params["model"] == "SGDClassifier":
                model = _train_sgd(run, data, int(params["epochs"]))
            else:
                model = _train_gbm(run, data, int(params["max_depth"]), int(params["n_estimators"]))
            run.log_metrics(_final_metrics(model, data[1], data[3], data[5]))
            result = run.end("FINISHED")
        except BaseException:
            run.end("FAILED")
            raise
        steps = len(runs.metric_history(run_id=result.id, key="val_roc_auc"))
        kpis = result.kpi_report.summary() if result.kpi_report else "no KPIs"
        say(
            f"     {name:<13} run {result.id}  {steps} steps  roc_auc {result.metrics['roc_auc']:.3f}  "
            f"accuracy {result.metrics['accuracy']:.3f}  KPIs {kpis}"
        )
        ended.append(result)
        if models is not None:
            models[result.id] = (model, data[1].head(5))
    comparison = compare(ended)
    differ = [key for key, _, differs in comparison.params if differs]
    say(f"   Compared the runs: params that differ: {', '.join(differ)}; final metrics:")
    header, body = rows(comparison)
    table = [header, *(r for r in body if r[0].startswith("metrics.") and "val_" not in r[0])]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    for line in table:
        say("     " + "  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
    best = max(ended, key=lambda r: r.metrics["roc_auc"])
    say(f"   Highest roc_auc: {best.name} ({best.metrics['roc_auc']:.3f}), run {best.id}")
    return ended
