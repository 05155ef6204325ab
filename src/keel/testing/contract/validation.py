"""Contract: data validation answers the same on local SQLite, local PostgreSQL and a remote server.

Against a server the suite travels as the request body, the server reads the
versions from its own artifact store, and the report comes back whole.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.data import add
from keel.testing.contract.data import data_client  # noqa: F401  (the fixture, re-exported)


def _table(rows: int, seed: int, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "amount": rng.normal(100 + shift * 30, 20, rows),
            "plan": rng.choice(["basic", "pro"] if not shift else ["basic", "pro", "gold"], rows),
        }
    )


def _add(client: Client, project: str, name: str, table: pa.Table, folder: Path) -> None:
    path = folder / f"{name}-{len(list(folder.glob('*.parquet')))}.parquet"
    pq.write_table(table, path)
    add(path, name, project=project, pointer=False, gitignore=False, client=client)


def test_infer_validate_and_read_back(
    data_client: Client,  # noqa: F811
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    project = unique("validation")
    data_client.projects.create(name=project)
    _add(data_client, project, "train", _table(800, 1), tmp_path)
    _add(data_client, project, "batch", _table(300, 2), tmp_path)
    _add(data_client, project, "batch", _table(300, 3, shift=2.0), tmp_path)
    suite = data_client.validation.infer_suite(project=project, dataset="train", version="v1")
    assert suite.columns["plan"].domain == ["basic", "pro"]
    clean = data_client.validation.validate(project=project, dataset="batch", version="v1", suite=suite)
    assert clean.passed, [r for r in clean.results if r.verdict == "fail"]
    drifted = data_client.validation.validate(project=project, dataset="batch", version="v2", suite=suite)
    assert not drifted.passed
    assert {(r.check, r.column) for r in drifted.failures()} >= {
        ("domain", "plan"),
        ("distribution", "amount"),
    }
    assert data_client.validation.report(project=project, report_id=drifted.id) == drifted
    assert [r.id for r in data_client.validation.reports(project=project).items] == [drifted.id, clean.id]


def test_bad_input_is_refused_the_same_everywhere(
    data_client: Client,  # noqa: F811
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    project = unique("validation")
    data_client.projects.create(name=project)
    _add(data_client, project, "empty", _table(10, 1).slice(0, 0), tmp_path)
    try:
        data_client.validation.infer_suite(project=project, dataset="empty")
    except InvalidInput as exc:
        assert "has no rows" in str(exc)
    else:
        raise AssertionError("inferring from an empty version must be refused")
    try:
        data_client.validation.report(project=project, report_id="01J0000000000000000000000X")
    except NotFound:
        pass
    else:
        raise AssertionError("an unknown report must be NotFound")


def _labelled(rows: int, seed: int) -> Any:
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, rows)
    gender = rng.choice(["f", "m"], rows)
    label = (rng.random(rows) < 1 / (1 + np.exp(-2 * x))).astype(np.int64)
    return pd.DataFrame({"x": x, "gender": gender, "label": label})


def test_models_are_validated_and_admission_refuses_the_same_everywhere(
    data_client: Client,  # noqa: F811
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """Parity, model validation with fairness, the policy, and ``--require-valid`` through every backend."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    import keel.models
    from keel.core.errors import CheckFailed
    from keel.sdk import register_model
    from keel.validation import attach_preprocessing

    project = unique("validation")
    data_client.projects.create(name=project, kpis=["demographic_parity_difference <= 0.5 group=gender"])
    train = _labelled(600, 1)
    scaler = StandardScaler().fit(train[["x"]])
    model = LogisticRegression().fit(scaler.transform(train[["x"]]), train["label"])
    folder = tmp_path / "pkg"
    keel.models.save(model, folder, input_example=scaler.transform(train[["x"]])[:3])
    attach_preprocessing(folder, scaler, train[["x"]])
    version = register_model(folder, "m", project=project, client=data_client)
    parity = data_client.validation.check_parity(project=project, package=version.package_digest)
    assert parity.passed and parity.rows == 200

    policy = data_client.validation.set_policy(project=project, sensitive_columns=["gender"])
    assert policy.sensitive_columns == ["gender"]
    _add(
        data_client,
        project,
        "holdout",
        pa.Table.from_pandas(_labelled(400, 2), preserve_index=False),
        tmp_path,
    )
    report = data_client.validation.validate_model(
        project=project, package=version.package_digest, dataset="holdout", label_column="label", n_boot=50
    )
    assert report.passed and report.fairness[0].column == "gender" and "roc_auc" in report.metrics
    assert data_client.validation.model_report(project=project, report_id=report.id) == report
    try:
        data_client.validation.validate_model(
            project=project, package=version.package_digest, dataset="holdout", label_column="nope"
        )
    except InvalidInput as exc:
        assert "no label column 'nope'" in str(exc)
    else:
        raise AssertionError("a missing label column must be refused")

    suite = data_client.validation.infer_suite(project=project, dataset="holdout")
    bad = tmp_path / "bad.parquet"
    pq.write_table(_table(100, 9, shift=2.0), bad)
    try:
        add(
            bad,
            "holdout",
            project=project,
            pointer=False,
            gitignore=False,
            client=data_client,
            require_valid=suite,
        )
    except CheckFailed as exc:
        assert "fails suite" in str(exc)
    else:
        raise AssertionError("a table failing the suite must be refused")
    assert data_client.validation.reports(project=project).items == []
