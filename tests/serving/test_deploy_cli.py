"""``keel deploy`` as a user types it: create, ls, show, edit, rm, with --json, and bad input exits 2."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any], package: Path
) -> Any:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    for _ in range(2):
        assert keel_cli("model", "register", str(package), "--name", "iris", "-p", "churn").code == 0
    assert keel_cli("model", "alias", "iris", "1", "live", "-p", "churn").code == 0
    assert keel_cli("model", "alias", "iris", "2", "candidate", "-p", "churn").code == 0
    return keel_cli


def test_deployments_from_the_shell(shell: Any) -> None:
    made = shell(
        "deploy",
        "create",
        "iris-prod",
        "--model",
        "iris@live",
        "--canary",
        "iris@candidate:10%",
        "-p",
        "churn",
    )
    assert made.code == 0, made.err
    listed = json.loads(shell("deploy", "ls", "-p", "churn", "--json").out)
    assert [(d["name"], d["version"], d["canary_version"], d["canary_percent"]) for d in listed] == [
        ("iris-prod", 1, 2, 10)
    ]
    shown = shell("deploy", "show", "iris-prod", "-p", "churn")
    assert shown.code == 0 and "candidate" in shown.out
    assert shell("deploy", "edit", "iris-prod", "--no-canary", "-p", "churn").code == 0
    assert json.loads(shell("deploy", "show", "iris-prod", "-p", "churn", "--json").out)["canary"] is None
    bad = shell(
        "deploy", "create", "d2", "--model", "iris@live", "--canary", "iris@candidate:101%", "-p", "churn"
    )
    assert bad.code == 2 and "from 0 to 100" in bad.err
    empty = shell("deploy", "create", "d3", "--model", "iris@staging", "-p", "churn")
    assert empty.code == 2 and "holds no version" in empty.err
    assert shell("deploy", "rm", "iris-prod", "-p", "churn").code == 0
    assert json.loads(shell("deploy", "ls", "-p", "churn", "--json").out) == []
