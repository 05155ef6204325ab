"""The quickstart's training stage: a pipeline whose second run is all cache hits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("sklearn")


class _State:
    """The fields of ``keel.quickstart.Quickstart`` the stage reads and fills."""

    def __init__(self, client: Any, directory: Path, table_path: Path, versions: list[Any]) -> None:
        self.client, self.directory, self.table_path = client, directory, table_path
        self.dataset_versions = versions
        self.ended_runs: list[Any] = []
        self.fitted: dict[str, tuple[Any, Any]] = {}
        self.lines: list[str] = []

    def say(self, text: str) -> None:
        self.lines.append(text)

    def step(self, text: str) -> None:
        self.lines.append(f"N. {text}")


def test_the_training_stage_runs_a_pipeline_then_finds_it_all_cached(
    make_keel: Callable[..., Any], tmp_path: Path
) -> None:
    from keel.data import add
    from keel.quickstart.pipeline import GRID, training_pipeline_stage
    from keel.samples import customers_table

    client = make_keel()
    client.projects.create(name="churn")
    path = tmp_path / "customers.parquet"
    pq.write_table(customers_table(600), path)
    version = add(path, "churn-train", project="churn", client=client).version
    qs = _State(client, tmp_path, path, [version])

    training_pipeline_stage(qs)

    text = "\n".join(qs.lines)
    assert "5 ran, 0 cached" in text and "Re-ran it: 0 ran, 5 cached" in text
    assert [r.name for r in qs.ended_runs] == [name for name, _, _ in GRID]
    for run in qs.ended_runs:
        assert set(qs.fitted[run.id][0].predict(qs.fitted[run.id][1])) <= {0, 1}
        assert {"accuracy", "roc_auc", "demographic_parity_difference.gender"} <= set(run.metrics)
        assert client.runs.metric_history(run_id=run.id, key="val_roc_auc")  # the learning curve
    assert (tmp_path / "keel.lock").read_text().count("key:") == 5
    # A second quickstart on the same workspace reuses the runs that computed the cached steps.
    first_ids = [r.id for r in qs.ended_runs]
    again = _State(client, tmp_path, path, [version])
    training_pipeline_stage(again)
    assert "0 ran, 5 cached" in again.lines[0] and [r.id for r in again.ended_runs] == first_ids
    assert set(again.fitted) == set(first_ids)
