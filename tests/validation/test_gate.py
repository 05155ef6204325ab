"""The promotion gate asks validation: a passing model report for the package, no failing training data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import CheckFailed
from keel.sdk import register_model

from .conftest import PROJECT, churn_table
from .models_fixture import labelled, package


def test_promotion_needs_passing_validation_when_the_policy_says_so(
    client: Client, tmp_path: Path, add_table: Callable[[str, pa.Table], str]
) -> None:
    add_table("holdout", pa.Table.from_pandas(labelled(800, 7), preserve_index=False))
    add_table("other", pa.Table.from_pandas(labelled(300, 8), preserve_index=False))
    run = client.runs.create(project=PROJECT)
    version = register_model(
        package(tmp_path / "pkg", labelled(800, 1)), "churn", project=PROJECT, run_id=run.id, client=client
    )
    ref = f"churn@{version.number}"
    # No policy: the gate is the KPIs alone (this project has none), as before.
    assert client.models.gate(project=PROJECT, ref=ref).validation is None

    client.validation.set_policy(project=PROJECT, require_validation=True, evaluation_dataset="holdout")
    gate = client.models.gate(project=PROJECT, ref=ref)
    assert not gate.passed and gate.validation == "no model validation report for this version on holdout"
    with pytest.raises(CheckFailed, match="validation: no model validation report"):
        client.models.promote(project=PROJECT, ref=ref, to="candidate")

    def validate(dataset: str, **kw: Any) -> Any:
        return client.validation.validate_model(
            project=PROJECT,
            package=version.package_digest,
            dataset=dataset,
            label_column="churned",
            n_boot=0,
            **kw,
        )

    validate("other")  # passing, but not on the dataset the project names
    assert not client.models.gate(project=PROJECT, ref=ref).passed
    passed = validate("holdout")
    gate = client.models.gate(project=PROJECT, ref=ref)
    assert gate.passed and gate.validation is not None and passed.report_digest[:12] in gate.validation
    assert client.models.promote(project=PROJECT, ref=ref, to="candidate").version.aliases == ["candidate"]

    client.projects.edit(name=PROJECT, kpis=["accuracy >= 0.999"])
    failed = validate("holdout")
    assert not failed.passed
    gate = client.models.gate(project=PROJECT, ref=ref)
    assert not gate.passed and gate.validation is not None and f"report {failed.id}" in gate.validation
    client.projects.edit(name=PROJECT, remove_kpis=["accuracy"])
    validate("holdout")  # the newest report decides

    # The run's training data failed its suite: the newest data report on it blocks promotion.
    add_table("train", churn_table(400, 1))
    used = add_table("train", churn_table(400, 2, plans=("basic", "gold")))
    client.runs.use(run_id=run.id, refs=[used])
    suite = client.validation.infer_suite(project=PROJECT, dataset="train", version="v1")
    assert client.models.gate(project=PROJECT, ref=ref).passed  # no report on it yet
    bad = client.validation.validate(project=PROJECT, dataset="train", version="v2", suite=suite)
    assert not bad.passed
    gate = client.models.gate(project=PROJECT, ref=ref)
    assert not gate.passed and gate.validation is not None
    assert f"training data {PROJECT}/{used} failed suite 'train' (report {bad.id})" in gate.validation
