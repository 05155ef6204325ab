"""`keel quickstart`: the main job runs end to end and prints only what it did."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest


def test_quickstart_builds_a_workspace_project_and_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = keel_cli("quickstart", "demo", "--rows", "800")
    assert result.code == 0, result.err
    out = result.out
    demo = tmp_path / "demo"
    assert (demo / ".keel" / "keel.db").exists()
    assert "Created project 'churn' with 4 KPIs" in out
    table = pq.read_table(demo / "data" / "customers.parquet")
    assert table.num_rows == 800 and "gender" in table.column_names
    assert f"Generated 800 customers x {table.num_columns} columns" in out

    monkeypatch.chdir(demo)
    project: dict[str, Any] = json.loads(keel_cli("project", "show", "churn", "--json").out)
    assert {k["metric"] for k in project["kpis"]} >= {"accuracy", "roc_auc", "demographic_parity_difference"}
    lineage: dict[str, Any] = json.loads(keel_cli("data", "lineage", "churn/churn-train@v1", "--json").out)
    users = {
        e["src"]
        for e in lineage["downstream"]
        if e["relation"] == "used" and e["dst"].startswith("dataset_version:")
    }  # (the pipeline's later steps use the trainings' outputs, further downstream)
    assert len(users) == 3 and all(u.startswith("run:") for u in users)  # the three training runs
    # The registry stage: the winner is packaged and registered, and the KPI gate decides.
    assert "7. Registered" in out and "as churn@1" in out
    promoted = "Promoted churn@1 to 'production': KPIs 3/3 met" in out
    assert promoted or "Promotion to 'candidate' refused by the KPI gate" in out
    versions: list[dict[str, Any]] = json.loads(keel_cli("model", "ls", "churn", "--json").out)
    by_number = {v["number"]: v for v in versions}
    assert sorted(by_number) == [1, 2]  # 2: the hot swap stage's new version
    # The serving stages: served with a predict token, labels joined by request id, then hot-swapped.
    assert "as deployment 'churn-prod'" in out and "no token: 401" in out and "live accuracy" in out
    assert "Hot swap under traffic" in out and ", 0 failed" in out
    assert ("production" in by_number[2]["aliases"]) is promoted

    monkeypatch.chdir(tmp_path)
    again = keel_cli("quickstart", "demo", "--rows", "800")
    assert again.code == 0, again.err
    assert "exists already" in again.out and "Reused workspace" in again.out


def test_quickstart_refuses_a_file_as_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    result = keel_cli("quickstart", "afile")
    assert result.code == 2 and "is not a folder" in result.err
