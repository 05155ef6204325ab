"""Contract: runs behave the same on SQLite, PostgreSQL and a remote server.

Imported with ``*`` by ``tests/contract/test_tracking_contract.py``; each test
takes ``keel_client`` (parametrised over the three backends) and ``unique``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.client import Client, connect
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.operations import ByteStream
from keel.core.settings import load_settings
from keel.testing.fixtures import new_workspace


def _project(keel_client: Client, unique: Callable[[str], str], kpis: list[str] | None = None) -> str:
    name = unique("trk")
    keel_client.projects.create(name=name, kpis=kpis or [])
    return name


def test_run_roundtrip_keeps_param_types_and_final_metrics(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique, ["auc >= 0.8", "loss <= 0.1"])
    params: dict[str, Any] = {"depth": 6, "lr": 0.1, "early": True, "opt": "adam", "layers": [64, 32]}
    run = keel_client.runs.create(project=project, name="gbm", params=params, tags={"team": "risk"})
    assert run.status == "RUNNING" and run.params == params and run.tags == {"team": "risk"}
    points = [("auc", 0.7, 0, 1000), ("auc", 0.85, 5, 1000), ("auc", 0.80, 5, 1001), ("auc", 0.9, 3, 2000)]
    points += [("loss", float("nan"), 0, 1), ("loss", float("inf"), 1, 2), ("system/cpu", 12.5, 0, 3)]
    result = keel_client.runs.log_batch(run_id=run.id, metrics=points)
    assert result.metrics == len(points)
    ended = keel_client.runs.end(run_id=run.id)
    # final value: highest step, then latest timestamp
    assert ended.metrics["auc"] == 0.80
    assert ended.metrics["loss"] == math.inf and ended.metrics["system/cpu"] == 12.5
    assert ended.status == "FINISHED" and ended.duration is not None and ended.end_time is not None
    assert ended.kpi_report is not None and ended.kpi_passed is False
    assert [r.status for r in ended.kpi_report.results] == ["met", "missed"]
    fetched = keel_client.runs.get(run_id=run.id)
    assert fetched.params == params
    assert isinstance(fetched.params["depth"], int) and isinstance(fetched.params["early"], bool)
    history = keel_client.runs.metric_history(run_id=run.id, key="loss")
    assert math.isnan(history[0].value) and history[1].value == math.inf
    assert [p.step for p in keel_client.runs.metric_history(run_id=run.id, key="auc")] == [0, 3, 5, 5]


def test_resent_batch_is_stored_once_and_all_processes_points_are_kept(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    batch = [("loss", 1.0, 0, 10), ("loss", 0.5, 1, 20)]
    first = keel_client.runs.log_batch(run_id=run.id, metrics=batch, client_id="worker-a", seq=1)
    again = keel_client.runs.log_batch(run_id=run.id, metrics=batch, client_id="worker-a", seq=1)
    other = keel_client.runs.log_batch(run_id=run.id, metrics=batch, client_id="worker-b", seq=1)
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    assert len(keel_client.runs.metric_history(run_id=run.id, key="loss")) == 4
    with pytest.raises(InvalidInput, match="client_id and seq"):
        keel_client.runs.log_batch(run_id=run.id, metrics=batch, client_id="x")


def test_series_columns_and_mismatched_lengths(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    result = keel_client.runs.log_batch(
        run_id=run.id,
        metrics=[("loss", 0.9, 0, 5)],
        series={"loss": ([1, 2], [6, 7], [0.5, float("nan")]), "auc": ([0], [5], [0.7])},
    )
    assert result.metrics == 4
    history = keel_client.runs.metric_history(run_id=run.id, key="loss")
    assert [p.step for p in history] == [0, 1, 2] and math.isnan(history[2].value)
    with pytest.raises(InvalidInput, match="as many steps"):
        keel_client.runs.log_batch(run_id=run.id, series={"auc": ([1, 2], [1], [0.1, 0.2])})
    assert len(keel_client.runs.metric_history(run_id=run.id, key="auc")) == 1


def test_conflicting_param_is_refused_naming_both_values(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project, params={"lr": 0.1})
    keel_client.runs.log_batch(run_id=run.id, params={"lr": 0.1, "depth": 3})
    with pytest.raises(InvalidInput, match=r"0\.1.*0\.2"):
        keel_client.runs.log_batch(run_id=run.id, params={"lr": 0.2, "extra": 1}, metrics=[("m", 1.0, 0, 1)])
    after = keel_client.runs.get(run_id=run.id)
    assert after.params == {"lr": 0.1, "depth": 3} and after.metrics == {}


@pytest.mark.parametrize(
    ("metrics", "reason"),
    [
        ([("bad:key", 1.0, 0, 1)], r"point 1: metric key 'bad:key' must be 1 to 250 letters, digits"),
        ([("k" * 251, 1.0, 0, 1)], r"point 1: metric key 'k+\.\.\. must be 1 to 250"),
        ([("loss", "high", 0, 1)], "loss|value|number"),
    ],
)
def test_bad_metric_changes_nothing(
    keel_client: Client, unique: Callable[[str], str], metrics: list[Any], reason: str
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match=reason):
        keel_client.runs.log_batch(run_id=run.id, metrics=[("fine", 1.0, 0, 1), *metrics])
    assert keel_client.runs.get(run_id=run.id).metrics == {}


def test_unknown_run_and_project_and_finished_run(keel_client: Client, unique: Callable[[str], str]) -> None:
    with pytest.raises(NotFound, match="no run"):
        keel_client.runs.get(run_id="01NOPE0000000000000000000Z")
    with pytest.raises(NotFound, match="no project"):
        keel_client.runs.create(project=unique("missing"))
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    ended = keel_client.runs.end(run_id=run.id, status="FAILED")
    assert ended.end_time is not None
    end_ms = int(ended.end_time.timestamp() * 1000)
    with pytest.raises(Conflict, match="FAILED"):  # logged after the end: refused, nothing stored
        keel_client.runs.log_batch(run_id=run.id, metrics=[("m", 1.0, 0, end_ms + 60_000)])
    with pytest.raises(Conflict, match="params or tags"):
        keel_client.runs.log_batch(run_id=run.id, params={"late": 1})
    assert keel_client.runs.metric_history(run_id=run.id, key="m") == []
    # logged while it ran, delivered late (a spool): accepted, the run stays ended
    late = keel_client.runs.log_batch(
        run_id=run.id, series={"spooled": ([0, 1], [end_ms - 5, end_ms], [1.0, 2.0])}
    )
    assert late.metrics == 2 and keel_client.runs.get(run_id=run.id).status == "FAILED"
    resumed = keel_client.runs.resume(run_id=run.id)
    assert resumed.status == "RUNNING"
    keel_client.runs.log_batch(run_id=run.id, metrics=[("m", 1.0, 0, end_ms + 60_000)])
    assert len(keel_client.runs.metric_history(run_id=run.id, key="m")) == 1


def test_reap_marks_no_live_run(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    assert keel_client.runs.reap(project=project) == 0
    assert keel_client.runs.get(run_id=run.id).status == "RUNNING"
    with pytest.raises(NotFound, match="no project"):
        keel_client.runs.reap(project=unique("missing"))


def test_bad_run_inputs_change_nothing(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    with pytest.raises(InvalidInput, match="hourly_price"):
        keel_client.runs.create(project=project, hourly_price=-1.0)
    with pytest.raises(InvalidInput, match="run name"):
        keel_client.runs.create(project=project, name="bad:name")
    with pytest.raises(InvalidInput, match="param key"):
        keel_client.runs.create(project=project, params={"a b:c": 1})
    assert keel_client.runs.search(project=project).items == []
    run = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match="status: Input should be 'FINISHED', 'FAILED' or 'KILLED'"):
        keel_client.runs.end(run_id=run.id, status="RUNNING")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        keel_client.runs.end(run_id=run.id, status="DONE")  # type: ignore[arg-type]
    assert keel_client.runs.get(run_id=run.id).status == "RUNNING"
    with pytest.raises(InvalidInput, match="between 1 and"):
        keel_client.runs.search(project=project, limit=0)
    with pytest.raises(InvalidInput, match="asc"):
        keel_client.runs.search(project=project, order_by=["metrics.auc sideways"])


def _seed(keel_client: Client, project: str) -> dict[str, str]:
    ids = {}
    for i, (depth, opt) in enumerate([(2, "sgd"), (4, "adam"), (6, "adam"), (8, "sgd"), (6, "sgd")]):
        run = keel_client.runs.create(
            project=project, name=f"r{i}", params={"depth": depth, "opt": opt}, tags={"team": f"t{i % 2}"}
        )
        keel_client.runs.log_batch(
            run_id=run.id, metrics=[("auc", 0.8 + i * 0.03, 0, 1), ("system/cpu_percent", 10.0 * i, 0, 1)]
        )
        ids[f"r{i}"] = run.id
    return ids


def test_search_filters_orders_and_pages(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    _seed(keel_client, project)

    def names(filter_: str | None, order: list[str] | None = None) -> list[str]:
        page = keel_client.runs.search(project=project, filter=filter_, order_by=order or ["attributes.name"])
        return [r.name for r in page.items]

    assert names("metrics.auc > 0.85") == ["r2", "r3", "r4"]
    assert names("params.depth = 6") == ["r2", "r4"]
    assert names("params.opt = 'adam'") == ["r1", "r2"]
    assert names("params.depth >= 6 and (params.opt = 'adam' or tags.team = 't1')") == ["r2", "r3"]
    assert names("params.opt in ('adam', 'x') or metrics.auc < 0.81") == ["r0", "r1", "r2"]
    assert names("tags.team like 't1%'") == ["r1", "r3"]
    assert names("metrics.`system/cpu_percent` <= 10") == ["r0", "r1"]
    assert names("attributes.status = 'RUNNING' and attributes.name != 'r0'") == ["r1", "r2", "r3", "r4"]
    assert names(None, ["metrics.auc desc"]) == ["r4", "r3", "r2", "r1", "r0"]
    assert names(None, ["params.depth desc", "attributes.name"]) == ["r3", "r2", "r4", "r1", "r0"]
    first = keel_client.runs.search(project=project, order_by=["metrics.auc desc"], limit=2)
    second = keel_client.runs.search(
        project=project, order_by=["metrics.auc desc"], limit=2, page_token=first.next_token
    )
    assert [r.name for r in first.items + second.items] == ["r4", "r3", "r2", "r1"]
    assert second.items[0].params == {"depth": 6, "opt": "adam"}
    assert second.items[0].metrics["auc"] == pytest.approx(0.86)
    with pytest.raises(InvalidInput, match="page token"):
        keel_client.runs.search(project=project, order_by=["metrics.auc asc"], page_token=first.next_token)
    with pytest.raises(InvalidInput, match="page token"):
        keel_client.runs.search(project=project, page_token="bm9wZQ")
    assert first.next_token is not None
    forged = first.next_token[:-4] + ("AAAA" if not first.next_token.endswith("AAAA") else "BBBB")
    with pytest.raises(InvalidInput, match="page token"):
        keel_client.runs.search(project=project, order_by=["metrics.auc desc"], limit=2, page_token=forged)


@pytest.mark.parametrize(
    "order",
    [
        [],
        ["metrics.auc desc"],
        ["metrics.missing asc"],
        ["params.depth desc", "attributes.name"],
        ["params.opt", "tags.team desc"],
        ["attributes.start_time"],
        ["attributes.cost desc"],
    ],
)
def test_cursor_pages_match_one_query_in_every_order(
    keel_client: Client, unique: Callable[[str], str], order: list[str]
) -> None:
    project = _project(keel_client, unique)
    _seed(keel_client, project)
    keel_client.runs.create(project=project, name="bare")  # no params, metrics or tags: sorts last
    whole = [r.id for r in keel_client.runs.search(project=project, order_by=order).items]
    paged: list[str] = []
    token = None
    while True:
        page = keel_client.runs.search(project=project, order_by=order, limit=2, page_token=token)
        paged.extend(r.id for r in page.items)
        token = page.next_token
        if token is None:
            break
        if len(paged) == 2:  # a run created meanwhile neither repeats nor shifts later pages
            keel_client.runs.create(project=project, name="late", params={"depth": 100, "opt": "zzz"})
    assert len(whole) == 6
    assert [i for i in paged if i in whole] == whole


@pytest.mark.parametrize(
    ("filter_", "where"),
    [
        ("metrics.auc >", "position 14"),
        ("metrics.auc > 0.5 and (params.x = 1", "position 36"),
        ("metric.auc ~ 3", "position 12"),
        ("nothing.auc = 1", "position 1"),
        ("attributes.colour = 'red'", "unknown attribute"),
        ("metrics.auc = 'high'", "compare it with a number"),
    ],
)
def test_search_errors_point_at_the_mistake(
    keel_client: Client, unique: Callable[[str], str], filter_: str, where: str
) -> None:
    project = _project(keel_client, unique)
    with pytest.raises(InvalidInput, match=where):
        keel_client.runs.search(project=project, filter=filter_)


def test_delete_restore_lineage_and_cost(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project, hourly_price=3.6)
    child = keel_client.runs.create(project=project, parent_id=run.id)
    assert child.parent_id == run.id
    teacher = keel_client.runs.create(project=project, name="teacher")
    keel_client.runs.use(run_id=run.id, refs=[f"run:{teacher.id}"], relation="distilled_from")
    graph = keel_client.runs.lineage(run_id=run.id)
    assert {e.dst for e in graph.upstream} == {f"run:{teacher.id}"}
    assert [e.src for e in graph.downstream] == [f"run:{child.id}"]
    assert graph.labels[f"run:{teacher.id}"] == "teacher" and graph.labels[f"run:{run.id}"] == run.name
    with pytest.raises(InvalidInput):
        keel_client.runs.use(run_id=run.id, refs=["not a ref"])
    with pytest.raises(InvalidInput, match="'project'"):  # not something a run uses
        keel_client.runs.use(run_id=run.id, refs=[f"project:{project}"])
    with pytest.raises(NotFound, match="no dataset version '01JEXAMPLE'"):
        keel_client.runs.use(run_id=run.id, refs=["dataset_version:01JEXAMPLE"])
    with pytest.raises(NotFound, match="no artifact"):  # a digest nobody stored (or a guess)
        keel_client.runs.use(run_id=run.id, refs=[f"run:{teacher.id}", "a" * 64])
    assert {e.dst for e in keel_client.runs.lineage(run_id=run.id).upstream} == {f"run:{teacher.id}"}
    ended = keel_client.runs.end(run_id=run.id)
    assert ended.duration is not None and ended.cost == pytest.approx(ended.duration * 0.001)
    keel_client.runs.delete(run_id=child.id)
    assert {r.id for r in keel_client.runs.search(project=project).items} == {run.id, teacher.id}
    assert len(keel_client.runs.search(project=project, include_deleted=True).items) == 3
    keel_client.runs.restore(run_id=child.id)
    assert len(keel_client.runs.search(project=project).items) == 3
    events = keel_client.audit.ls(project=project).items  # newest first
    assert [(e.action, e.target) for e in events if e.action.startswith("run.")] == [
        ("run.restore", f"run:{child.id}"),
        ("run.delete", f"run:{child.id}"),
    ]
    total = keel_client.runs.cost(project=project)
    assert total.runs == 3 and total.cost == pytest.approx(ended.cost)
    cheap = keel_client.runs.search(
        project=project, filter="attributes.cost >= 0", order_by=["attributes.cost"]
    )
    assert [r.id for r in cheap.items] == [run.id]


@pytest.fixture(params=["sqlite", "postgres", "remote"])
def runs_client(request: pytest.FixtureRequest, tmp_path: Path) -> Client:
    """Like ``keel_client``, with an artifact store beside the PostgreSQL database too."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        settings = load_settings(
            {"db_url": url, "artifacts_url": str(tmp_path / "objects")}, env={}, cwd=tmp_path
        )
        return connect(settings=settings)
    if request.param == "sqlite":
        return connect(settings=new_workspace(tmp_path / "ws"))
    server = request.getfixturevalue("keel_server")
    token = getattr(server, "token", None)
    return connect(settings=load_settings({"server_url": server.url, "token": token}, env={}, cwd=tmp_path))


def test_artifacts_upload_list_download(runs_client: Client, unique: Callable[[str], str]) -> None:
    keel_client = runs_client
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    data = b"confusion matrix\n" * 1000
    stored = keel_client.runs.upload_artifact(
        run_id=run.id, path="plots/confusion.txt", body=ByteStream([data])
    )
    assert stored.size == len(data) and len(stored.digest) == 64
    listed = keel_client.runs.list_artifacts(run_id=run.id).items
    assert [a.path for a in listed] == ["plots/confusion.txt"]
    assert keel_client.runs.download_artifact(run_id=run.id, path="plots/confusion.txt").read_all() == data
    graph = keel_client.runs.lineage(run_id=run.id)
    assert f"artifact:{stored.digest}" in {e.src for e in graph.downstream}
    for bad in ("../escape.txt", "/etc/passwd"):
        with pytest.raises(InvalidInput, match="artifact path"):
            keel_client.runs.upload_artifact(run_id=run.id, path=bad, body=ByteStream([b"x"]))
    with pytest.raises(NotFound, match="no artifact"):
        keel_client.runs.download_artifact(run_id=run.id, path="missing.txt")
    assert len(keel_client.runs.list_artifacts(run_id=run.id).items) == 1


def test_a_runs_artifacts_list_a_page_at_a_time(runs_client: Client, unique: Callable[[str], str]) -> None:
    """``list_artifacts`` pages like every other listing (issue 18.3): in path order, resumable, bounded."""
    keel_client = runs_client
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    paths = ["a/1.txt", "a/2.txt", "a/3.txt", "b/1.txt", "c.txt"]
    for path in reversed(paths):
        keel_client.runs.upload_artifact(run_id=run.id, path=path, body=ByteStream([path.encode()]))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = keel_client.runs.list_artifacts(run_id=run.id, limit=2, page_token=token)
        seen += [a.path for a in page.items]
        pages += 1
        token = page.next_token
        if token is None:
            break
    assert seen == paths and pages == 3
    under_a = keel_client.runs.list_artifacts(run_id=run.id, prefix="a/", limit=2)
    assert [a.path for a in under_a.items] == ["a/1.txt", "a/2.txt"] and under_a.next_token
    rest = keel_client.runs.list_artifacts(run_id=run.id, prefix="a/", limit=2, page_token=under_a.next_token)
    assert [a.path for a in rest.items] == ["a/3.txt"] and rest.next_token is None
    with pytest.raises(InvalidInput, match="page token is not valid"):
        keel_client.runs.list_artifacts(run_id=run.id, page_token="not-a-token")
    with pytest.raises(InvalidInput, match="limit"):
        keel_client.runs.list_artifacts(run_id=run.id, limit=0)
