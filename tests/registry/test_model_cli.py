"""``keel model`` as a user types it: register, ls, show, alias, promote (gate and override), rollback, download, verify."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel
import keel.models


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any], fitted: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn", "--kpi", "accuracy >= 0.9").code == 0
    keel.init(project="churn", home=tmp_path / ".keel")
    model, X, _ = fitted
    for accuracy in (0.95, 0.5):
        with keel.start_run(name=f"acc{accuracy}", system_metrics=False, capture_env=False) as run:
            run.log_metric("accuracy", accuracy)
            run.log_model(model, name="churn", input_example=X.head(5))
    keel.models.save(model, tmp_path / "pkg", input_example=X.head(5))
    return keel_cli


def test_the_registry_from_the_shell(shell: Any, tmp_path: Path) -> None:
    result = shell("model", "register", str(tmp_path / "pkg"), "--name", "churn", "-p", "churn", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["number"] == 3
    listed = shell("model", "ls", "-p", "churn", "--json")
    assert [(m["name"], m["latest_version"]) for m in json.loads(listed.out)] == [("churn", 3)]
    versions = shell("model", "ls", "churn", "-p", "churn", "--json")
    assert [v["number"] for v in json.loads(versions.out)] == [3, 2, 1]
    assert shell("model", "alias", "churn", "1", "candidate", "-p", "churn").code == 0
    shown = shell("model", "show", "churn@candidate", "-p", "churn")
    assert shown.code == 0 and "KPI gate:     passes (1/1 met)" in shown.out and "produced_by" in shown.out
    promoted = shell("model", "promote", "churn@candidate", "--to", "production", "-p", "churn")
    assert promoted.code == 0 and "churn@production -> version 1; KPI gate passed" in promoted.out
    refused = shell("model", "promote", "churn@2", "--to", "production", "-p", "churn")
    assert refused.code == 1 and "does not pass the promotion gate" in refused.err
    forced = shell(
        "model", "promote", "churn@2", "--to", "production", "--force", "--reason", "hotfix", "-p", "churn"
    )
    assert forced.code == 0 and "was version 1" in forced.out and "OVERRIDDEN: hotfix" in forced.out
    back = shell("model", "rollback", "churn", "--alias", "production", "-p", "churn")
    assert back.code == 0 and "churn@production -> version 1" in back.out
    assert shell("model", "download", "churn@production", str(tmp_path / "out"), "-p", "churn").code == 0
    assert keel.models.verify(tmp_path / "out").flavor == "sklearn"
    verified = shell("model", "verify", "churn@3", "-p", "churn")
    assert verified.code == 0 and "match their digests" in verified.out


def test_bad_input_from_the_shell_is_exit_2_and_changes_nothing(shell: Any, tmp_path: Path) -> None:
    numeric = shell("model", "alias", "churn", "1", "7", "-p", "churn")
    assert numeric.code == 2 and "alias '7' is a number" in numeric.err
    missing = shell("model", "show", "churn@9", "-p", "churn")
    assert missing.code == 2 and "has no version 9" in missing.err
    no_prev = shell("model", "rollback", "churn", "--alias", "production", "-p", "churn")
    assert no_prev.code == 2 and "no previous holder" in no_prev.err
    no_reason = shell("model", "promote", "churn@2", "--to", "production", "--force", "-p", "churn")
    assert no_reason.code == 2 and "needs a reason" in no_reason.err
    not_a_package = shell("model", "register", str(tmp_path), "--name", "churn", "-p", "churn")
    assert not_a_package.code == 2 and "has no keel-model.json" in not_a_package.err
    versions = json.loads(shell("model", "ls", "churn", "-p", "churn", "--json").out)
    assert [(v["number"], v["aliases"]) for v in versions] == [(2, []), (1, [])]
