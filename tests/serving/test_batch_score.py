"""``keel model predict``: a dataset version scored in chunks, versioned as a dataset with lineage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def shell(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keel_cli: Callable[..., Any],
    package: Path,
    iris: tuple[Any, Any],
) -> Any:
    _, X = iris
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    assert keel_cli("model", "register", str(package), "--name", "iris", "-p", "churn").code == 0
    assert keel_cli("model", "alias", "iris", "1", "live", "-p", "churn").code == 0
    X.assign(customer=range(len(X))).to_parquet(tmp_path / "feats.parquet")
    X.drop(columns=["petal_width"]).to_parquet(tmp_path / "narrow.parquet")
    for name in ("feats", "narrow"):
        assert keel_cli("data", "add", f"{name}.parquet", "-p", "churn").code == 0
    return keel_cli


def test_a_dataset_version_is_scored_in_chunks_with_lineage(
    shell: Any, tmp_path: Path, iris: tuple[Any, Any]
) -> None:
    import pandas as pd

    model, X = iris
    out = tmp_path / "scores" / "scores.parquet"
    done = shell(
        "model", "predict", "iris@live", "--data", "feats@v1", "--out", str(out), "--chunk-rows", "40",
        "-p", "churn", "--json",
    )  # fmt: skip
    assert done.code == 0, done.err
    answer = json.loads(done.out)
    assert answer["rows"] == len(X) == 150
    scores = pd.read_parquet(out)
    assert scores["prediction"].tolist() == model.predict(X).tolist()
    assert scores["customer"].tolist() == list(range(150))  # input columns kept, rows in order
    version = answer["version"]
    assert version["dataset"] == "scores" and version["parents"]
    from keel.context import Context
    from keel.core.settings import load_settings
    from keel.lineage import upstream

    ctx = Context(load_settings(cwd=tmp_path))
    with ctx.store.read() as session:
        edges = {
            (e.relation, e.dst.split(":")[0]) for e in upstream(session, f"dataset_version:{version['id']}")
        }
    assert ("predicted_by", "model_version") in edges and ("derived_from", "dataset_version") in edges


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "narrow@v1"], "no column 'petal_width'"),
        (["--data", "feats@v9"], "v9"),
        (["--data", "feats@v1", "--out", "x.csv"], ".parquet"),
        (["--data", "feats@v1", "--out", "feats.parquet"], "exists already"),
    ],
)
def test_bad_scoring_requests_are_refused_and_record_nothing(
    shell: Any, tmp_path: Path, args: list[str], needle: str
) -> None:
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "scores.parquet")]
    bad = shell("model", "predict", "iris@live", *args, "-p", "churn")
    assert bad.code != 0 and needle in bad.err, bad.err
    assert not (tmp_path / "scores.parquet").exists()
    names = [d["name"] for d in json.loads(shell("data", "ls", "-p", "churn", "--json").out)]
    assert sorted(names) == ["feats", "narrow"]
    assert shell(
        "model", "predict", "iris@nope", "--data", "feats@v1", "--out", "s.parquet", "-p", "churn"
    ).code
