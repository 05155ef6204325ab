"""The SDK and the runs service agree on names and shapes (issue 18.3): ``parent_id`` in both,
and a run's artifacts listed a page at a time like every other listing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import keel
from keel.core.errors import InvalidInput
from keel.core.paging import Page
from keel.testing.fixtures import new_workspace


@pytest.fixture
def churn(tmp_path: Path) -> Iterator[Any]:
    settings = new_workspace(tmp_path / "ws")
    client = keel.init(project="churn", create=True, home=settings.home)
    yield client
    while keel.active_run() is not None:
        keel.end_run()


def test_start_run_names_the_parent_as_the_service_does(churn: Any) -> None:
    with keel.start_run(name="outer", system_metrics=False, capture_env=False) as outer:
        pass
    by_run = keel.start_run(name="a", parent_id=outer, system_metrics=False, capture_env=False)
    keel.end_run()
    by_id = keel.start_run(name="b", parent_id=outer.id, system_metrics=False, capture_env=False)
    keel.end_run()
    by_prefix = keel.start_run(name="c", parent_id=outer.id[:20], system_metrics=False, capture_env=False)
    keel.end_run()
    older = keel.start_run(name="d", parent=outer, system_metrics=False, capture_env=False)
    keel.end_run()
    direct = churn.runs.create(project="churn", name="e", parent_id=outer.id)
    stored = [churn.runs.get(run_id=r.id).parent_id for r in (by_run, by_id, by_prefix, older, direct)]
    assert stored == [outer.id] * 5


def test_parent_and_parent_id_together_are_refused_and_start_nothing(churn: Any) -> None:
    with keel.start_run(name="outer", system_metrics=False, capture_env=False) as outer:
        pass
    with pytest.raises(InvalidInput, match="give parent_id or parent"):
        keel.start_run(parent_id=outer, parent=outer.id, system_metrics=False, capture_env=False)
    assert keel.active_run() is None
    assert [r.name for r in churn.runs.search(project="churn").items] == ["outer"]


def test_list_artifacts_returns_a_page(churn: Any) -> None:
    with keel.start_run(name="files", system_metrics=False, capture_env=False) as run:
        run.log_text("one", "notes/1.txt")
        run.log_text("two", "notes/2.txt")
    page = churn.runs.list_artifacts(run_id=run.id, limit=1)
    assert isinstance(page, Page) and [a.path for a in page.items] == ["notes/1.txt"]
    rest = churn.runs.list_artifacts(run_id=run.id, limit=1, page_token=page.next_token)
    assert [a.path for a in rest.items] == ["notes/2.txt"] and rest.next_token is None
    projects = churn.projects.ls()
    assert isinstance(projects, Page)  # the same shape as the other listings
