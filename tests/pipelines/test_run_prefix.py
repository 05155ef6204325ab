"""A pipeline run is named by its id or a unique prefix, as runs are (issue 10.9)."""

from __future__ import annotations

from typing import Any

import pytest

from keel.core.errors import InvalidInput, NotFound
from keel.pipelines.schemas import StepPlan


def _start(client: Any) -> Any:
    return client.pipelines.start(project="pipes", pipeline="p", target="steps:p", steps=[StepPlan(name="a")])


def test_a_unique_prefix_names_the_run_and_an_ambiguous_one_names_the_candidates(client: Any) -> None:
    first, second = _start(client), _start(client)
    shared = next(i for i in range(26) if first.id[i] != second.id[i])  # ULIDs of one moment share a start
    assert client.pipelines.get(
        project="pipes", pipeline_run_id=second.id[: max(shared + 1, 4)].lower()
    ).id == (second.id)
    if shared >= 4:
        with pytest.raises(InvalidInput, match="is ambiguous") as refused:
            client.pipelines.get(project="pipes", pipeline_run_id=first.id[:shared])
        assert first.id in str(refused.value) and second.id in str(refused.value)
    with pytest.raises(InvalidInput, match="too short"):
        client.pipelines.get(project="pipes", pipeline_run_id=first.id[:3])
    with pytest.raises(NotFound, match="no pipeline run"):
        client.pipelines.get(project="pipes", pipeline_run_id="01ZZZZZZZZ")
