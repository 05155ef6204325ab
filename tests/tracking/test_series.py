"""runs.metric_series: the downsampled series over the SDK and REST, equal to what the UI draws."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound


def test_a_long_metric_comes_back_cut_with_its_extremes_gaps_and_zoom(
    make_keel: Callable[..., Client],
) -> None:
    client = make_keel()
    client.projects.create(name="p")
    run = client.runs.create(project="p", name="long")
    values = [float(i % 101) for i in range(30_000)]
    values[7_777] = math.nan
    values[9_999] = -math.inf
    client.runs.log_batch(run_id=run.id, metrics=[("x", v, i, i) for i, v in enumerate(values)])
    cut = client.runs.metric_series(run_id=run.id, key="x")
    assert cut.total == 30_000 and cut.downsampled and len(cut.steps) <= 2000
    kept = [v for v in cut.values if v is not None]
    assert (min(kept), max(kept)) == (0.0, 100.0)
    assert cut.values[cut.steps.index(7_777)] is None and cut.values[cut.steps.index(9_999)] is None
    zoom = client.runs.metric_series(run_id=run.id, key="x", lo=7_770, hi=7_780)
    assert zoom.steps == list(range(7_770, 7_781)) and zoom.values[7] is None and not zoom.downsampled
    history = client.runs.metric_history(run_id=run.id, key="x")[:50]
    whole = client.runs.metric_series(run_id=run.id, key="x", hi=49)
    assert whole.steps == [p.step for p in history] and whole.values == [p.value for p in history]
    assert client.runs.metric_series(run_id=run.id, key="never").total == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"points": 2}, InvalidInput, "points"),
        ({"points": 20_001}, InvalidInput, "points"),
        ({"lo": 9, "hi": 3}, InvalidInput, "zoom range is empty"),
        ({"key": "bad key!"}, InvalidInput, "metric key"),
        ({"run_id": "0" * 26}, NotFound, "run"),
    ],
)
def test_bad_requests_are_refused_naming_what_was_wrong(
    make_keel: Callable[..., Client], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    client = make_keel()
    client.projects.create(name="p")
    run = client.runs.create(project="p", name="r")
    arguments: dict[str, Any] = {"run_id": run.id, "key": "x", **kwargs}
    with pytest.raises(error, match=message):
        client.runs.metric_series(**arguments)


def test_rest_answers_the_series_as_a_get_route(tmp_path: Path) -> None:
    from keel.testing.auth import AuthWorld

    world = AuthWorld(tmp_path / "ws")
    admin = world.client(world.admin_token)
    admin.projects.create(name="p")
    run = admin.runs.create(project="p", name="r")
    admin.runs.log_batch(run_id=run.id, metrics=[("x", float(i % 7), i, i) for i in range(5_000)])
    http = world.http(world.admin_token)
    rest = http.get(f"/api/v1/runs/{run.id}/series", params={"key": "x", "points": 300})
    assert rest.status_code == 200 and rest.json()["total"] == 5_000 and len(rest.json()["steps"]) <= 300
    bad = http.get(f"/api/v1/runs/{run.id}/series", params={"key": "x", "lo": 5, "hi": 1})
    assert bad.status_code == 422 and "zoom range is empty" in bad.json()["error"]["message"]
    outsider = world.http(world.user("out"))
    assert outsider.get(f"/api/v1/runs/{run.id}/series", params={"key": "x"}).status_code == 404
