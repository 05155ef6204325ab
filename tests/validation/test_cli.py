"""``keel data suite infer`` and ``keel data validate``: files written, exit codes, JSON and HTML."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from keel.client import Client

from .conftest import PROJECT, churn_table


def _keel(home: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", "-c", f"home={home}", "data", *args, "-p", PROJECT],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == code, done.stdout + done.stderr
    return done


@pytest.mark.slow  # four CLI processes
def test_infer_then_validate_from_the_command_line(
    client: Client, add_table: Callable[[str, pa.Table], str], tmp_path: Path
) -> None:
    home = client.settings.home if client.settings else ""
    add_table("churn-train", churn_table(1500, 1))
    add_table("churn-new", churn_table(500, 2))
    add_table("churn-new", churn_table(500, 3, shift=1.5, plans=("basic", "gold")))
    suite = tmp_path / "suites" / "churn.yaml"
    _keel(home, "suite", "infer", "churn-train@v1", "--out", str(suite))
    assert "reference: churn/churn-train@v1" in suite.read_text()

    passed = _keel(home, "validate", "churn-new@v1", "--suite", str(suite))
    assert "passed" in passed.stdout
    html = tmp_path / "report.html"
    failed = _keel(home, "validate", "churn-new@v2", "--suite", str(suite), "--html", str(html), code=1)
    assert "FAILED" in failed.stdout and "outside the domain" in failed.stdout and "'gold'" in failed.stdout
    page = html.read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "FAILED" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")

    report = json.loads(
        _keel(home, "validate", "churn-new@v2", "--suite", str(suite), "--json", code=1).stdout
    )
    assert report["passed"] is False
    plan = next(r for r in report["results"] if r["check"] == "domain" and r["column"] == "plan")
    assert plan["verdict"] == "fail" and plan["threshold"] == ["basic", "plus", "pro"]
    assert plan["failing_rows"][0]["value"] == "gold"


def test_a_malformed_suite_exits_2_naming_line_and_column(
    client: Client, add_table: Callable[[str, pa.Table], str], tmp_path: Path
) -> None:
    home = client.settings.home if client.settings else ""
    add_table("churn-new", churn_table(100, 2))
    suite = tmp_path / "bad.yaml"
    suite.write_text("name: churn\ncolumns:\n  tenure:\n    min: [1\n")
    done = _keel(home, "validate", "churn-new@v1", "--suite", str(suite), code=2)
    assert f"{suite}:5:1: not valid YAML" in done.stderr
    assert client.validation.reports(project=PROJECT).items == []
