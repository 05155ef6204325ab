"""`keel run lineage` as a person reads it: dataset addresses and run names beside the ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel
import keel.sdk
from keel.core.errors import NotFound


@pytest.mark.slow
def test_run_lineage_shows_addresses_and_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    (tmp_path / "train.csv").write_text("age,churned\n31,0\n45,1\n")
    added = keel_cli("data", "add", "train.csv", "--name", "churn-train", "-p", "churn", "--json")
    assert added.code == 0, added.err
    client = keel.init(project="churn", home=tmp_path / ".keel")
    with keel.start_run(name="baseline", system_metrics=False, capture_env=False) as base:
        pass
    with keel.start_run(name="gbm", system_metrics=False, capture_env=False) as run:
        run.use_dataset("churn-train@v1")
        run.use_dataset(base.ref)
        with pytest.raises(NotFound, match="no dataset version '01JEXAMPLE'"):
            run.use_dataset("dataset_version:01JEXAMPLE")
    shown = keel_cli("run", "lineage", run.id)
    assert shown.code == 0, shown.err
    assert "churn-train@v1 (dataset_version:" in shown.out
    assert f"baseline (run:{base.id})" in shown.out and f"gbm (run:{run.id})" in shown.out
    graph = json.loads(keel_cli("run", "lineage", run.id, "--json").out)
    assert sorted(graph["labels"].values()) == ["baseline", "churn-train@v1", "gbm"]
    assert len(client.runs.lineage(run_id=run.id).upstream) == 2
