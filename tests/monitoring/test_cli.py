"""``keel monitor``: create, check (exit 1 on drift), --json, --html, history, rules and alerts, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from keel.client import Client

from .conftest import PROJECT, churn_table


def test_monitor_commands_from_create_to_alerts(
    client: Client, add_table: Callable[[str, pa.Table], str], keel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    home = str(client.settings.home) if client.settings else ""

    def keel(*args: str) -> Any:
        return keel_cli("-c", f"home={home}", "-c", f"project={PROJECT}", "monitor", *args)

    ref = add_table("churn-train", churn_table(2000, 1))
    made = keel("create", "churn-prod", "--reference", ref, "--label", "churned", "--categorical", "plan")
    assert made.code == 0, made.err
    assert "monitor churn-prod: 3 features" in made.out
    shown = keel("show", "churn-prod", "--json")
    assert json.loads(shown.out)["kinds"] == {"tenure": "numeric", "spend": "numeric", "plan": "categorical"}
    assert "churn-prod" in keel("ls").out

    rule = keel("rule", "add", "churn-prod", "drift.share > 0.3", "--cooldown", "1h", "--json")
    assert rule.code == 0, rule.err
    assert json.loads(rule.out)["expression"] == "drift.share > 0.3"
    assert "drift.share > 0.3" in keel("rule", "ls", "churn-prod").out

    quiet_file = tmp_path / "quiet.parquet"
    pq.write_table(churn_table(600, 2), quiet_file)
    quiet = keel("check", "churn-prod", str(quiet_file))
    assert quiet.code == 0, quiet.out + quiet.err
    assert "no feature drifted" in quiet.out

    shifted_file = tmp_path / "shifted.csv"
    pacsv.write_csv(churn_table(600, 3, shift=1.0), shifted_file)
    html = tmp_path / "out" / "report.html"
    shifted = keel("check", "churn-prod", str(shifted_file), "--html", str(html))
    assert shifted.code == 1, shifted.out + shifted.err
    assert "DRIFT" in shifted.out and "alert drift.share > 0.3" in shifted.out
    page = html.read_text()
    assert "<svg" in page and "tenure" in page

    as_json = keel("report", "churn-prod", "--json")
    assert as_json.code == 1
    body = json.loads(as_json.out)
    assert body["drifted"] and {f["name"] for f in body["drift"]["features"]} == {"tenure", "spend", "plan"}
    history = keel("history", "churn-prod", "--json")
    assert [e["drifted"] for e in json.loads(history.out)] == [True, False]
    listed = keel("alerts", "--json")
    assert listed.code == 0, listed.err
    alerts = json.loads(listed.out)
    assert len(alerts) == 1 and alerts[0]["state"] == "firing" and alerts[0]["delivery"] == "delivered"


def test_bad_monitor_commands_exit_2_and_name_the_problem(
    client: Client, add_table: Callable[[str, pa.Table], str], keel_cli: Callable[..., Any], tmp_path: Path
) -> None:
    home = str(client.settings.home) if client.settings else ""

    def keel(*args: str) -> Any:
        return keel_cli("-c", f"home={home}", "-c", f"project={PROJECT}", "monitor", *args)

    ref = add_table("churn-train", churn_table(300, 1))
    bad_test = keel("create", "m", "--reference", ref, "--test", "numeric")
    assert bad_test.code == 2 and "KIND=TEST" in bad_test.err
    assert keel("create", "m", "--reference", ref).code == 0
    neither = keel("check", "m")
    assert neither.code == 2 and "batch file or --version" in neither.err
    missing = keel("check", "m", str(tmp_path / "nope.parquet"))
    assert missing.code == 2 and "no such file" in missing.err
    rule = keel("rule", "add", "m", "drift.shar > 0.3")
    assert rule.code == 2 and "no figure 'drift.shar'" in rule.err and "drift.share" in rule.err
    syntax = keel("rule", "add", "m", "drift.share >> 1")
    assert syntax.code == 2 and "is not FIGURE COMPARATOR NUMBER" in syntax.err
    sink = keel("rule", "add", "m", "drift.share > 0.3", "--sink", "email:me")
    assert sink.code == 2 and "sink 'email:me'" in sink.err
    window = keel("run", "m", "--window", "yesterday")
    assert window.code == 2 and "START/DURATION" in window.err
    assert json.loads(keel("rule", "ls", "m", "--json").out) == []
