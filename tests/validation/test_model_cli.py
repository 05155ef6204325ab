"""``keel model validate``, ``check-parity`` and ``policy`` as a user types them: tables, JSON, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import keel.data
from keel.client import Client
from keel.sdk import register_model

from .conftest import PROJECT
from .models_fixture import labelled, package, weak_package


@pytest.fixture
def shell(client: Client, keel_cli: Callable[..., Any], tmp_path: Path) -> Callable[..., Any]:
    home = client.settings.home if client.settings else ""

    def run(*args: str) -> Any:
        return keel_cli("-c", f"home={home}", "model", *args, "-p", PROJECT)

    path = tmp_path / "holdout.parquet"
    pq.write_table(pa.Table.from_pandas(labelled(800, 7), preserve_index=False), path)
    keel.data.add(path, "holdout", project=PROJECT, pointer=False, gitignore=False, client=client)
    train = labelled(800, 1)
    register_model(weak_package(tmp_path / "weak", train), "churn", project=PROJECT, client=client)
    client.models.set_alias(project=PROJECT, name="churn", version=1, alias="staging")
    register_model(package(tmp_path / "strong", train), "churn", project=PROJECT, client=client)
    return run


def test_validate_parity_and_policy_from_the_shell(shell: Callable[..., Any], client: Client) -> None:
    parity = shell("check-parity", "churn@2")
    assert parity.code == 0, parity.err
    assert "churn@2: parity holds (200 rows x 5 features" in parity.out
    plain = shell("check-parity", "churn@1")
    assert plain.code == 2 and "carries no preprocessing" in plain.err

    policy = shell("policy", "--sensitive", "gender", "--min-improvement", "0.01")
    assert policy.code == 0 and "sensitive_columns:" in policy.out and "['gender']" in policy.out
    shown = json.loads(shell("policy", "--json").out)
    assert shown["sensitive_columns"] == ["gender"] and shown["min_improvement"] == 0.01

    done = shell(
        "validate",
        "churn@2",
        "--data",
        "holdout",
        "--label",
        "churned",
        "--champion",
        "staging",
        "--slice",
        "plan",
        "--n-boot",
        "100",
    )
    assert done.code == 0, done.out + done.err
    for text in (
        "churn@2 on churn/holdout@v1 (800 rows, classification)",
        "champion churn@1: roc_auc",
        "beaten",
        "slice plan=pro",
        "fairness by gender",
        "demographic_parity_difference",
        "parity: every feature",
        "passed",
    ):
        assert text in done.out, text
    as_json = json.loads(
        shell(
            "validate",
            "churn@2",
            "--data",
            "holdout",
            "--label",
            "churned",
            "--champion",
            "staging",
            "--n-boot",
            "0",
            "--json",
        ).out
    )
    assert as_json["passed"] and as_json["champion"]["label"] == "churn@1"

    client.projects.edit(name=PROJECT, kpis=["accuracy >= 0.99"])
    failed = shell("validate", "churn@2", "--data", "holdout", "--label", "churned", "--n-boot", "0")
    assert failed.code == 1 and "failed: KPI accuracy >= 0.99" in failed.out and "FAILED" in failed.out
    assert "no champion: no other version holds 'production'" in failed.out
    missing = shell("validate", "churn@2", "--data", "holdout", "--label", "nope")
    assert missing.code == 2 and "no label column 'nope'" in missing.err
