"""A unique prefix of a run's id names the run in every run operation, on every backend (issue 10.9).

The resolution happens once, in the runs service (``keel.tracking.read.find_run``), so the
local SDK, the remote SDK (REST) and the CLI all take prefixes; an ambiguous prefix names
its candidates, a too-short one is refused, and neither changes anything.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import ByteStream


def _common(a: str, b: str) -> str:
    """The longest prefix both ids share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def test_every_run_operation_takes_a_unique_prefix(
    keel_client: Client, unique: Callable[[str], str], request: pytest.FixtureRequest
) -> None:
    project = unique("pfx")
    keel_client.projects.create(name=project)
    run = keel_client.runs.create(project=project, name="first")
    short = run.id[:20].lower()  # 50 random bits past the timestamp: unique; case does not matter
    assert keel_client.runs.get(run_id=short).id == run.id
    logged = keel_client.runs.log_batch(
        run_id=short, metrics=[("loss", 0.5, 0, 1_700_000_000_000)], tags={"t": "x"}
    )
    assert logged.metrics == 1 and logged.tags == 1
    assert [p.value for p in keel_client.runs.metric_history(run_id=short, key="loss")] == [0.5]
    if request.node.callspec.params["keel_client"] != "postgres":  # that fixture has no artifact store
        keel_client.runs.upload_artifact(short, "a/b.txt", ByteStream(iter([b"bytes"])))
        assert [a.path for a in keel_client.runs.list_artifacts(run_id=short).items] == ["a/b.txt"]
        assert b"".join(keel_client.runs.download_artifact(run_id=short, path="a/b.txt")) == b"bytes"
    child = keel_client.runs.create(project=project, parent_id=short)
    assert child.parent_id == run.id  # the stored parent is the full id, not what was typed
    assert keel_client.runs.lineage(run_id=child.id[:20]).run == f"run:{child.id}"
    ended = keel_client.runs.end(run_id=short)
    assert ended.id == run.id and ended.status == "FINISHED"
    assert keel_client.runs.delete(run_id=short).deleted
    assert not keel_client.runs.restore(run_id=short).deleted
    stored = keel_client.runs.get(run_id=run.id)
    assert stored.metrics == {"loss": 0.5} and stored.tags["t"] == "x"


def test_an_ambiguous_prefix_names_candidates_and_changes_nothing(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = unique("pfx")
    keel_client.projects.create(name=project)
    a = keel_client.runs.create(project=project)
    b = keel_client.runs.create(project=project)
    shared = _common(a.id, b.id)
    assert len(shared) >= 4  # ids made moments apart share their timestamp's leading characters
    with pytest.raises(InvalidInput, match="ambiguous") as caught:
        keel_client.runs.end(run_id=shared)
    candidates = caught.value.message.split("it starts ", 1)[1].rstrip(", .").split(", ")
    assert candidates and all(c.startswith(shared) for c in candidates if c != "...")
    assert caught.value.hint == "give more characters of the id"
    assert {keel_client.runs.get(run_id=r.id).status for r in (a, b)} == {"RUNNING"}


@pytest.mark.parametrize("length", [3, 1])
def test_a_prefix_under_four_characters_is_refused(
    keel_client: Client, unique: Callable[[str], str], length: int
) -> None:
    project = unique("pfx")
    keel_client.projects.create(name=project)
    run = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match="is too short: give at least 4 characters"):
        keel_client.runs.log_batch(run_id=run.id[:length], tags={"x": "y"})
    assert keel_client.runs.get(run_id=run.id).tags == {}


@pytest.mark.parametrize("bad", ["ZZZZZZZZ", "nosuchrun", "01M8-"])
def test_a_prefix_that_matches_nothing_is_an_unknown_run(keel_client: Client, bad: str) -> None:
    with pytest.raises(NotFound, match=f"no run with id '{bad}'"):
        keel_client.runs.get(run_id=bad)


def test_a_parent_given_by_an_ambiguous_prefix_creates_no_run(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = unique("pfx")
    keel_client.projects.create(name=project)
    a = keel_client.runs.create(project=project)
    b = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match="ambiguous"):
        keel_client.runs.create(project=project, parent_id=_common(a.id, b.id))
    assert len(keel_client.runs.search(project=project).items) == 2
