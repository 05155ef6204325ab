"""The Ray executor on a local Ray started by the test (one CPU, no dashboard, loopback), stopped after."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from keel.core.errors import InvalidInput
from keel.pipelines.run import run_pipeline
from keel.pipelines.sweep import run_sweep
from pipelines import steps_demo as demo

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()  # only the Ray this test started; never `ray stop`


@pytest.mark.slow
def test_ray_gives_the_same_digests_logs_metrics_and_names_a_failing_step(
    local_ray: None, client: Any
) -> None:
    from keel.core.errors import StepFailed

    inline = run_pipeline(demo.demo, client, project="pipes", no_cache=True)
    on_ray = run_pipeline(demo.demo, client, project="pipes", no_cache=True, executor="ray")
    assert {n: s.digest for n, s in inline.steps.items()} == {n: s.digest for n, s in on_ray.steps.items()}
    grid = run_pipeline(demo.grid, client, project="pipes", executor="ray")
    assert grid.value("best") == "fit-0.5" and grid.steps["fit-0.5"].metrics["score"] == pytest.approx(1.5)
    with pytest.raises(StepFailed, match="step boom failed: ValueError: the data has no label column"):
        run_pipeline(demo.failing, client, project="pipes", executor="ray")
    swept = run_sweep(
        demo.tune,
        client,
        project="pipes",
        space={"lr": [0.2, 0.3]},
        sampler="grid",
        objective="score",
        executor="ray",
        jobs=2,
    )
    assert [t.params["lr"] for t in swept.leaderboard] == [0.3, 0.2]
    assert ray.is_initialized()  # a Ray the caller started is left running


def test_an_unreachable_ray_address_is_refused_before_anything_is_recorded(client: Any) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InvalidInput, match=f"--ray-address 127.0.0.1:{port}: no Ray cluster answers there"):
        run_pipeline(demo.demo, client, project="pipes", executor="ray", ray_address=f"127.0.0.1:{port}")
    with pytest.raises(InvalidInput, match="write auto, HOST:PORT"):
        run_pipeline(demo.demo, client, project="pipes", executor="ray", ray_address="nowhere")
    with pytest.raises(InvalidInput, match="--ray-address goes with --executor ray"):
        run_pipeline(demo.demo, client, project="pipes", ray_address="auto")
    assert client.pipelines.list(project="pipes") == [] and demo.CALLS == []
