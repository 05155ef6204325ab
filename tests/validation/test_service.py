"""The validation operations through the SDK client: infer, validate, stored reports, lineage, bad input."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound

from .conftest import PROJECT, churn_table


def test_infer_validate_store_and_link(client: Client, add_table: Callable[[str, pa.Table], str]) -> None:
    add_table("churn-train", churn_table(2000, 1))
    add_table("churn-new", churn_table(600, 2))
    add_table("churn-new", churn_table(600, 3, shift=1.5, plans=("basic", "gold")))
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train", version="v1", name="churn")
    assert suite.name == "churn" and suite.reference == f"{PROJECT}/churn-train@v1"

    good = client.validation.validate(project=PROJECT, dataset="churn-new", version="v1", suite=suite)
    assert good.passed and good.failed == 0 and good.rows == 600
    bad = client.validation.validate(project=PROJECT, dataset="churn-new", version="v2", suite=suite)
    assert not bad.passed and bad.failed == len(bad.failures()) > 0
    assert {(r.check, r.column) for r in bad.failures()} >= {("domain", "plan"), ("distribution", "tenure")}

    stored = client.validation.report(project=PROJECT, report_id=bad.id)
    assert stored == bad
    listed = client.validation.reports(project=PROJECT, dataset="churn-new", version="v2")
    assert [r.id for r in listed.items] == [bad.id]
    assert [r.id for r in client.validation.reports(project=PROJECT).items] == [bad.id, good.id]
    page = client.validation.reports(project=PROJECT, limit=1)
    assert (
        page.next_token
        and client.validation.reports(project=PROJECT, page_token=page.next_token).items[0].id == good.id
    )

    lineage = client.data.lineage(project=PROJECT, name="churn-new", version="v2")
    assert {"src": f"validation_report:{bad.id}", "relation": "validates", "dst": bad.subject} in [
        {k: e[k] for k in ("src", "relation", "dst")} for e in lineage.downstream
    ]


def test_a_report_made_inside_a_run_is_linked_to_it(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    add_table("churn-train", churn_table(300, 1))
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train")
    run = client.runs.create(project=PROJECT)
    report = client.validation.validate(project=PROJECT, dataset="churn-train", suite=suite, run=run.id)
    assert report.run == run.id and report.passed
    with pytest.raises(NotFound):
        client.validation.validate(
            project=PROJECT, dataset="churn-train", suite=suite, run="01J0000000000000000000000X"
        )


def test_bad_inputs_are_clear_errors_that_store_nothing(
    client: Client, add_table: Callable[[str, pa.Table], str]
) -> None:
    add_table("churn-train", churn_table(300, 1))
    with pytest.raises(NotFound):
        client.validation.infer_suite(project=PROJECT, dataset="nope")
    add_table("empty", churn_table(300, 1).slice(0, 0))
    with pytest.raises(InvalidInput, match="has no rows"):
        client.validation.infer_suite(project=PROJECT, dataset="empty")
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train")
    add_table("churn-train", churn_table(300, 9))  # v2: the suite's reference must stay v1
    moved = suite.model_copy(update={"reference": f"{PROJECT}/churn-train@latest"})
    with pytest.raises(InvalidInput, match="now has other content"):
        client.validation.validate(project=PROJECT, dataset="churn-train", suite=moved)
    with pytest.raises(InvalidInput, match="version needs dataset"):
        client.validation.reports(project=PROJECT, version="v1")
    with pytest.raises(NotFound):
        client.validation.report(project=PROJECT, report_id="01J0000000000000000000000X")
    assert client.validation.reports(project=PROJECT).items == []
