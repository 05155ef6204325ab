"""``keel run`` as a user types it: ls with filter and KPI column, show, compare, artifacts, delete/restore."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]) -> list[str]:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn", "--kpi", "auc >= 0.9").code == 0
    keel.init(project="churn", home=tmp_path / ".keel")
    ids = []
    for depth, auc in [(3, 0.85), (6, 0.93)]:
        with keel.start_run(
            name=f"d{depth}", params={"max_depth": depth}, system_metrics=False, capture_env=False
        ) as run:
            run.log_metrics({"auc": auc, "loss": 1 - auc}, step=0)
            run.log_text("hello", "notes/readme.txt")
        ids.append(run.id)
    return ids


def test_ls_filters_orders_and_shows_kpis(runs: list[str], keel_cli: Callable[..., Any]) -> None:
    result = keel_cli("run", "ls", "--project", "churn", "--filter", "metrics.auc > 0.9", "--json")
    assert result.code == 0, result.err
    assert [r["id"] for r in json.loads(result.out)] == [runs[1]]
    result = keel_cli("run", "ls", "-p", "churn", "--order-by", "metrics.auc desc")
    assert result.code == 0 and "KPIs" in result.out and "1/1 met" in result.out and "0/1 met" in result.out
    assert result.out.index("d6") < result.out.index("d3")
    bad = keel_cli("run", "ls", "-p", "churn", "--filter", "metrics.auc >> 1")
    assert bad.code == 2 and "position 14" in bad.err


def test_show_compare_and_markdown(runs: list[str], keel_cli: Callable[..., Any]) -> None:
    shown = keel_cli("run", "show", runs[0])
    assert shown.code == 0 and "max_depth" in shown.out and "KPIs: 0/1 met" in shown.out
    data = json.loads(keel_cli("run", "show", runs[1], "--json").out)
    assert data["metrics"]["auc"] == 0.93 and data["kpi_passed"] is True and "lineage" in data
    table = keel_cli("run", "compare", *runs)
    assert table.code == 0 and "* params.max_depth" in table.out and "(max)" in table.out
    md = keel_cli("run", "compare", *runs, "--markdown").out
    assert md.startswith("|  | d3 | d6 |") and "| * params.max_depth | 3 | 6 |" in md
    assert keel_cli("run", "compare", runs[0]).code == 2


def test_artifacts_history_delete_restore_cost_lineage(
    runs: list[str], keel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    listed = json.loads(keel_cli("run", "artifacts", "ls", runs[0], "--json").out)
    assert [a["path"] for a in listed] == ["notes/readme.txt"]
    got = keel_cli("run", "artifacts", "get", runs[0], "notes/readme.txt", "-o", str(tmp_path / "r.txt"))
    assert got.code == 0 and (tmp_path / "r.txt").read_text() == "hello"
    history = json.loads(keel_cli("run", "history", runs[0], "auc", "--json").out)
    assert [p["value"] for p in history] == [0.85]
    assert keel_cli("run", "delete", runs[0]).code == 0
    assert len(json.loads(keel_cli("run", "ls", "-p", "churn", "--json").out)) == 1
    assert keel_cli("run", "restore", runs[0]).code == 0
    assert len(json.loads(keel_cli("run", "ls", "-p", "churn", "--json").out)) == 2
    cost = json.loads(keel_cli("run", "cost", "-p", "churn", "--json").out)
    assert cost["runs"] == 2
    lineage = json.loads(keel_cli("run", "lineage", runs[0], "--json").out)
    assert any(e["relation"] == "produced_by" for e in lineage["downstream"])
    missing = keel_cli("run", "show", "01NOPE0000000000000000000Z")
    assert missing.code == 2 and "no run" in missing.err
