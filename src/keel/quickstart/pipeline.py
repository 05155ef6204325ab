"""The quickstart's training stage as a pipeline: prepare -> a small grid of trainings -> evaluate.

Each training is a step (so a child run of the pipeline's run, with its
learning curve and final metrics logged through :mod:`keel.pipelines.steplog`);
``evaluate`` ranks them. The pipeline then runs a second time and every step
is a cache hit, which is the point of writing training as a pipeline. The
registry stage that follows packages the winner from the runs this stage
leaves in ``qs.ended_runs`` and ``qs.fitted``.

The training code lives here, in the steps' own module, because the cache
key covers the source of same-module helpers: editing ``_fit_gbm`` reruns
the trainings that call it. scikit-learn and pandas are imported inside the
steps only. ``qs`` is the quickstart's shared state (typed ``Any``: the
quickstart sits above this package).
"""

from __future__ import annotations

import time
from typing import Any

import keel.pipelines as kp
from keel.pipelines.run import PipelineResult, run_pipeline

PROJECT = "churn"
NUMERIC = ["age", "tenure_months", "monthly_charges", "total_charges", "support_calls"]
CATEGORICAL = ["region", "plan", "contract", "payment_method"]
#: The grid the pipeline trains: (step name, model family, its settings).
GRID: list[tuple[str, str, dict[str, Any]]] = [
    ("sgd-logistic", "sgd", {"alpha": 1e-3, "epochs": 20}),
    ("gbm-depth2", "gbm", {"max_depth": 2, "n_estimators": 60}),
    ("gbm-depth4", "gbm", {"max_depth": 4, "n_estimators": 60}),
]


@kp.step
def prepare(table_path: str, data_digest: str) -> dict[str, Any]:
    """One-hot features, a stratified 75/25 split, missing values filled with training medians.

    ``data_digest`` (the dataset version's content digest) is in the cache key, so a new
    version of the table reruns everything downstream.
    """
    import pandas as pd
    import pyarrow.parquet as pq
    from sklearn.model_selection import train_test_split

    frame = pq.read_table(table_path).to_pandas()
    X = pd.get_dummies(frame[NUMERIC + CATEGORICAL], columns=CATEGORICAL, dtype=float)
    y = frame["churned"].astype(int).to_numpy()
    X_train, X_val, y_train, y_val, _, g_val = train_test_split(
        X, y, frame["gender"].to_numpy(), test_size=0.25, random_state=0, stratify=y
    )
    medians = X_train.median()
    return {
        "X_train": X_train.fillna(medians),
        "X_val": X_val.fillna(medians),
        "y_train": y_train,
        "y_val": y_val,
        "gender_val": g_val,
    }


def _fit_sgd(data: dict[str, Any], alpha: float, epochs: int) -> Any:
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import log_loss, roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(data["X_train"])
    model = SGDClassifier(loss="log_loss", alpha=alpha, random_state=0)
    X_train, X_val = scaler.transform(data["X_train"]), scaler.transform(data["X_val"])
    for epoch in range(epochs):
        model.partial_fit(X_train, data["y_train"], classes=[0, 1])
        proba = model.predict_proba(X_val)[:, 1]
        kp.log_metrics(
            {
                "val_log_loss": log_loss(data["y_val"], proba),
                "val_roc_auc": roc_auc_score(data["y_val"], proba),
            },
            step=epoch,
        )
    return make_pipeline(scaler, model)


def _fit_gbm(data: dict[str, Any], max_depth: int, n_estimators: int) -> Any:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.metrics import log_loss, roc_auc_score

    model = GradientBoostingClassifier(
        max_depth=max_depth, n_estimators=n_estimators, learning_rate=0.1, random_state=0
    )
    model.fit(data["X_train"], data["y_train"])
    for stage, proba in enumerate(model.staged_predict_proba(data["X_val"])):
        kp.log_metrics(
            {
                "val_log_loss": log_loss(data["y_val"], proba[:, 1]),
                "val_roc_auc": roc_auc_score(data["y_val"], proba[:, 1]),
            },
            step=stage,
        )
    return model


def _scores(model: Any, data: dict[str, Any]) -> dict[str, float]:
    """What the project's KPIs read: accuracy, roc_auc, and the gender gap in positive predictions."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    proba = model.predict_proba(data["X_val"])[:, 1]
    predicted = (proba >= 0.5).astype(int)
    gender = data["gender_val"]
    rates = [predicted[gender == g].mean() for g in sorted(set(gender)) if (gender == g).any()]
    return {
        "accuracy": float(accuracy_score(data["y_val"], predicted)),
        "roc_auc": float(roc_auc_score(data["y_val"], proba)),
        "demographic_parity_difference.gender": float(max(rates) - min(rates)),
    }


@kp.step
def train(data: dict[str, Any], family: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Fit one model of the grid; its learning curve and final scores go to its child run."""
    if family == "sgd":
        model = _fit_sgd(data, float(settings["alpha"]), int(settings["epochs"]))
    elif family == "gbm":
        model = _fit_gbm(data, int(settings["max_depth"]), int(settings["n_estimators"]))
    else:
        raise ValueError(f"unknown model family {family!r}")
    scores = _scores(model, data)
    kp.log_metrics(scores)
    return {"model": model, "scores": scores, "example": data["X_val"].head(5)}


@kp.step
def evaluate(**trained: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard: each training's scores, highest roc_auc first."""
    board = [{"name": name, **result["scores"]} for name, result in trained.items()]
    return sorted(board, key=lambda row: -row["roc_auc"])


@kp.pipeline(name="churn-training")
def churn_training(table_path: str = "", data_digest: str = "") -> object:
    """prepare -> one training per grid entry -> evaluate."""
    data = prepare(table_path, data_digest)
    trained = {name: train.named(name)(data, family, settings) for name, family, settings in GRID}
    return evaluate(**trained)


def _describe(result: PipelineResult) -> str:
    cached = sum(1 for r in result.steps.values() if r.cached)
    return f"{len(result.steps) - cached} ran, {cached} cached"


def training_pipeline_stage(qs: Any) -> None:
    """Run the training pipeline on the first table version, then again to show every step cached."""
    assert qs.table_path is not None and qs.dataset_versions, "the data stage runs before training"
    client, say = qs.client, qs.say
    params = {"table_path": str(qs.table_path), "data_digest": qs.dataset_versions[0].digest}
    lock = qs.directory / "keel.lock"
    started = time.perf_counter()
    result = run_pipeline(churn_training, client, project=PROJECT, params=params, lock=lock)
    first_s = time.perf_counter() - started
    qs.step(
        f"Ran pipeline churn-training (prepare -> {len(GRID)} trainings -> evaluate) in {first_s:.1f} s: "
        f"{_describe(result)}"
        + (f"; parent run {result.run_id}, a child run per step run" if result.run_id else "")
        + f"; lock file {lock.name}"
    )
    ended = []
    for name, _, _ in GRID:
        step = result.steps[name]
        run_id = step.run_id if not step.cached else step.source_run_id
        if run_id is None:
            continue
        if not step.cached:  # the model's lineage reaches the data version it was trained on
            client.runs.use(run_id=run_id, refs=[f"dataset_version:{qs.dataset_versions[0].id}"])
        run = client.runs.get(run_id)
        value = result.value(name)
        qs.fitted[run.id] = (value["model"], value["example"])
        ended.append(run)
        kpis = run.kpi_report.summary() if run.kpi_report else "no KPIs"
        origin = "cached from" if step.cached else "run"
        say(
            f"     {name:<13} {origin} {run.id}  roc_auc {run.metrics['roc_auc']:.3f}  "
            f"accuracy {run.metrics['accuracy']:.3f}  KPIs {kpis}"
        )
    qs.ended_runs = ended
    board = result.value("evaluate")
    say(f"   evaluate ranked them by roc_auc: {', '.join(row['name'] for row in board)}")
    started = time.perf_counter()
    again = run_pipeline(churn_training, client, project=PROJECT, params=params, lock=lock)
    say(
        f"   Re-ran it: {_describe(again)} in {time.perf_counter() - started:.2f} s "
        f"(pipeline run {again.id}; `keel pipeline show {again.id[:10]}`)"
    )
