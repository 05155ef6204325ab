"""The foundation's CLI as a user types it: init, project create/show/ls/edit/check, config, db."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CREATE = [
    "project",
    "create",
    "churn",
    "--description",
    "Predict which customers cancel within 30 days",
    "--objective",
    "Cut churn by targeting retention offers",
    "--kpi",
    "accuracy >= 0.85",
    "--kpi",
    "roc_auc >= 0.90",
    "--kpi",
    "demographic_parity_difference <= 0.10 group=gender",
    "--kpi",
    "latency_p99_ms <= 50 stage=online",
]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]) -> Path:
    monkeypatch.chdir(tmp_path)
    result = keel_cli("init")
    assert result.code == 0, result.err
    assert "created workspace" in result.out
    return tmp_path


def test_init_creates_a_migrated_workspace(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    assert (workspace / ".keel" / "keel.db").exists()
    assert (workspace / ".keel" / "config.toml").exists()
    status = keel_cli("db", "status", "--json")
    assert status.code == 0 and json.loads(status.out)["current"] is True
    again = keel_cli("init")
    assert again.code == 0 and "found workspace" in again.out


def test_project_lifecycle(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    created = keel_cli(*CREATE)
    assert created.code == 0, created.err
    assert "created project churn with 4 KPI(s)" in created.out

    shown = json.loads(keel_cli("project", "show", "churn", "--json").out)
    assert shown["name"] == "churn"
    assert shown["objectives"] == ["Cut churn by targeting retention offers"]
    assert [k["metric"] for k in shown["kpis"]] == [
        "accuracy",
        "roc_auc",
        "demographic_parity_difference",
        "latency_p99_ms",
    ]
    assert shown["kpis"][2]["group"] == "gender" and shown["kpis"][3]["stage"] == "online"

    human = keel_cli("project", "show", "churn")
    assert (
        "Predict which customers cancel" in human.out and "demographic_parity_difference.gender" in human.out
    )

    listed = json.loads(keel_cli("project", "ls", "--json").out)
    assert [p["name"] for p in listed] == ["churn", "default"]
    assert "churn" in keel_cli("project", "ls").out

    edited = keel_cli("project", "edit", "churn", "--kpi", "accuracy >= 0.88", "--json")
    assert edited.code == 0
    thresholds = {k["metric"]: k["threshold"] for k in json.loads(edited.out)["kpis"]}
    assert thresholds["accuracy"] == 0.88 and thresholds["roc_auc"] == 0.9


def test_check_exits_1_when_a_kpi_is_missed(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    keel_cli(*CREATE)
    ok = keel_cli(
        "project",
        "check",
        "churn",
        "--stage",
        "offline",
        "-m",
        "accuracy=0.9",
        "-m",
        "roc_auc=0.95",
        "-m",
        "demographic_parity_difference.gender=0.05",
        "--json",
    )
    assert ok.code == 0, ok.err
    assert json.loads(ok.out)["passed"] is True
    missed = keel_cli("project", "check", "churn", "-m", "accuracy=0.5")
    assert missed.code == 1 and "missed" in missed.out
    bad = keel_cli("project", "check", "churn", "-m", "accuracy")
    assert bad.code == 2 and "name=value" in bad.err


@pytest.mark.parametrize(
    ("kpi", "reason"),
    [
        ("accuracy >> 0.9", "unknown comparator '>>'"),
        ("accuracy >= high", "is not a number"),
        ("accuracy ~ 0.9", "unknown comparator"),
    ],
)
def test_bad_kpi_exits_2_and_creates_nothing(
    workspace: Path, keel_cli: Callable[..., Any], kpi: str, reason: str
) -> None:
    result = keel_cli("project", "create", "churn", "--kpi", kpi)
    assert result.code == 2
    assert result.err.startswith("keel: error: ") and reason in result.err
    assert "Traceback" not in result.err
    assert [p["name"] for p in json.loads(keel_cli("project", "ls", "--json").out)] == ["default"]


def test_duplicate_and_unknown_projects(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    keel_cli("project", "create", "churn")
    dup = keel_cli("project", "create", "churn")
    assert dup.code == 2 and "exists already" in dup.err
    missing = keel_cli("project", "show", "nope")
    assert missing.code == 2 and "no project named 'nope'" in missing.err and "hint:" in missing.err
    bad_name = keel_cli("project", "create", "has space")
    assert bad_name.code == 2 and "name" in bad_name.err


def test_debug_prints_a_traceback(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    result = keel_cli("--debug", "project", "show", "nope")
    assert result.code == 2 and "Traceback" in result.err and "keel: error:" in result.err


def test_no_workspace_says_run_keel_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    result = keel_cli("project", "ls")
    assert result.code == 2
    assert "keel: error: no Keel workspace here; run `keel init`" in result.err


def test_out_of_date_database_is_reported_not_migrated(workspace: Path, keel_cli: Callable[..., Any]) -> None:
    import sqlite3

    conn = sqlite3.connect(workspace / ".keel" / "keel.db")
    conn.execute("DELETE FROM alembic_version")
    conn.execute("INSERT INTO alembic_version (version_num) VALUES ('0000')")
    conn.commit()
    conn.close()
    # a new process, as a user's next command is (this one has checked the schema already)
    result = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", "project", "ls"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith("KEEL_")},
    )
    assert result.returncode == 2 and "keel db upgrade" in result.stderr
    assert keel_cli("db", "status").code == 1
    conn = sqlite3.connect(workspace / ".keel" / "keel.db")
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0000",)]
    conn.close()


def test_unreachable_database_names_url_without_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_DB_URL", "postgresql+psycopg://keel:hunter2@127.0.0.1:1/keel")
    result = keel_cli("project", "ls")
    assert result.code == 2
    assert "cannot connect to the database postgresql+psycopg://keel:***@127.0.0.1:1/keel" in result.err
    assert "hunter2" not in result.err


def test_unreachable_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    from keel.testing.fixtures import free_port

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_SERVER_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("KEEL_HTTP_RETRIES", "0")
    result = keel_cli("project", "ls")
    assert result.code == 2 and "cannot reach the Keel server at http://127.0.0.1:" in result.err


def test_config_show_set_get(
    workspace: Path, keel_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert keel_cli("config", "set", "server_port", "5050").code == 0
    assert keel_cli("config", "get", "server_port").out.strip() == "5050"
    rows = {r["name"]: r for r in json.loads(keel_cli("config", "show", "--json").out)}
    assert rows["server_port"]["value"] == 5050 and rows["server_port"]["source"] == "config"
    monkeypatch.setenv("KEEL_SERVER_PORT", "6060")
    rows = {r["name"]: r for r in json.loads(keel_cli("config", "show", "--json").out)}
    assert rows["server_port"]["value"] == 6060 and rows["server_port"]["source"] == "env"
    rows = {
        r["name"]: r for r in json.loads(keel_cli("-c", "server_port=7070", "config", "show", "--json").out)
    }
    assert rows["server_port"]["value"] == 7070 and rows["server_port"]["source"] == "flag"
    bad = keel_cli("config", "set", "server_port", "many")
    assert bad.code == 2 and "server_port" in bad.err
    assert keel_cli("config", "get", "colour").code == 2
    assert keel_cli("-c", "oops", "config", "show").code == 2
