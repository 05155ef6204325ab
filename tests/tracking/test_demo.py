"""The quickstart's tracking stage: real runs with per-step metrics, KPIs checked, compared."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from keel.client import connect
from keel.core.settings import load_settings
from keel.quickstart import run_quickstart


def test_quickstart_trains_logs_and_compares_runs(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    lines: list[str] = []
    home = run_quickstart(tmp_path / "demo", rows=600, say=lines.append)
    text = "\n".join(lines)
    assert re.search(r"\n\d\. Trained 3 models \(450 rows, 150 held out\)", text)
    assert "params that differ:" in text and "Highest roc_auc:" in text
    client = connect(settings=load_settings({"home": str(home)}, env={}))
    runs = client.runs.search(project="churn", order_by=["attributes.name"]).items
    assert [r.name for r in runs] == ["gbm-depth2", "gbm-depth4", "sgd-logistic"]
    for run in runs:
        assert run.status == "FINISHED" and run.kpi_summary is not None
        assert {"accuracy", "roc_auc", "demographic_parity_difference.gender"} <= set(run.metrics)
        assert f"run {run.id}" in text
    steps = client.runs.metric_history(run_id=runs[2].id, key="val_roc_auc")
    assert [p.step for p in steps] == list(range(20))
