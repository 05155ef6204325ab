"""A stored validation report by a unique prefix of its id, as git takes a short hash (issue 10.9)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound

from .conftest import PROJECT, churn_table


def test_a_report_by_unique_prefix(client: Client, add_table: Callable[[str, pa.Table], str]) -> None:
    add_table("churn-train", churn_table(300, 1))
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train", version="v1", name="s")
    first = client.validation.validate(project=PROJECT, dataset="churn-train", version="v1", suite=suite)
    second = client.validation.validate(project=PROJECT, dataset="churn-train", version="v1", suite=suite)
    assert client.validation.report(project=PROJECT, report_id=first.id[:20].lower()) == first
    shared = next(first.id[:n] for n in range(26, 0, -1) if second.id.startswith(first.id[:n]))
    if len(shared) >= 4:
        with pytest.raises(InvalidInput, match="ambiguous"):
            client.validation.report(project=PROJECT, report_id=shared)
    with pytest.raises(InvalidInput, match="too short"):
        client.validation.report(project=PROJECT, report_id=first.id[:3])
    with pytest.raises(NotFound, match=f"no validation report ZZZZZZZZ in project '{PROJECT}'"):
        client.validation.report(project=PROJECT, report_id="ZZZZZZZZ")
    client.projects.create(name="other")
    with pytest.raises(NotFound):  # another project's report is not found by its prefix there
        client.validation.report(project="other", report_id=first.id[:20])
