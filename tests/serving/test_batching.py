"""Adaptive micro-batching: concurrent callers share one ``predict`` and each gets its own rows back."""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
import pytest

from keel.core.errors import InvalidInput
from keel.serving.batching import Batcher
from keel.serving.inputs import Batch
from keel.serving.loader import Served
from keel.testing.auth import AuthWorld

from .server import ServeProcess


class Doubler:
    """A stand-in for a loaded version: answers 2 * x, records every batch size it was called with."""

    def __init__(self, fail_on: float | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on = fail_on

    def predict(self, batch: Batch) -> np.ndarray:
        x = batch.columns["x"] if batch.tensor is None else batch.tensor
        self.calls.append(len(x))
        if self.fail_on is not None and self.fail_on in x:
            raise ValueError("cannot answer that")
        return np.asarray(x) * 2


def _rows(*values: float) -> Batch:
    return Batch(columns={"x": np.asarray(values, dtype=np.float64)})


def _run(batcher: Batcher, model: Doubler, batches: list[Batch]) -> list[Any]:
    async def go() -> list[Any]:
        served = cast(Served, model)
        calls = [batcher.predict(served, b) for b in batches]
        return list(await asyncio.gather(*calls, return_exceptions=True))

    return asyncio.run(go())


def test_concurrent_requests_merge_up_to_the_max_and_split_back() -> None:
    model, sizes = Doubler(), list[int]()
    batcher = Batcher(max_rows=4, wait_s=1.0, observe=sizes.append)
    answers = _run(batcher, model, [_rows(1), _rows(2, 3), _rows(4), _rows(5), _rows(6)])
    assert [a.tolist() for a in answers] == [[2], [4, 6], [8], [10], [12]]
    assert model.calls == [4, 2]  # full at 4 rows (never beyond), the rest after the wait
    assert sizes == [4, 2]


def test_a_request_over_the_max_runs_alone_and_a_different_shape_does_not_merge() -> None:
    model = Doubler()
    tensor = Batch(tensor=np.asarray([7.0]))
    answers = _run(Batcher(max_rows=3, wait_s=1.0), model, [_rows(1), _rows(2, 3, 4, 5), tensor, _rows(6)])
    assert [a.tolist() for a in answers] == [[2], [4, 6, 8, 10], [14], [12]]
    assert sorted(model.calls) == [1, 1, 1, 4]


def test_one_failing_request_does_not_fail_the_others_in_its_batch() -> None:
    model = Doubler(fail_on=2.0)
    answers = _run(Batcher(max_rows=3, wait_s=1.0), model, [_rows(1), _rows(2), _rows(3)])
    assert answers[0].tolist() == [2] and answers[2].tolist() == [6]
    assert isinstance(answers[1], ValueError)


def test_merging_off_calls_the_model_per_request() -> None:
    model = Doubler()
    _run(Batcher(max_rows=1), model, [_rows(1), _rows(2)])
    assert model.calls == [1, 1]


@pytest.mark.parametrize(("rows", "wait", "needle"), [(0, 0.002, "batch_max"), (8, 5.0, "batch_wait_ms")])
def test_bad_batch_settings_are_refused(rows: int, wait: float, needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        Batcher(rows, wait)


def test_keel_serve_merges_concurrent_callers(world: AuthWorld, iris: tuple[Any, Any]) -> None:
    model, X = iris
    admin = world.client(world.admin_token)
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    token = admin.tokens.create(user="root", scope="predict", deployment="iris-prod").secret
    headers = {"Authorization": f"Bearer {token}"}
    rows = X.iloc[[0, 60, 120, 10, 70, 130, 20, 80]]
    expected = model.predict(rows).tolist()
    server = ServeProcess(
        Path(world.settings.home), "iris-prod", "--batch-max", "8", "--batch-wait-ms", "1000", "--no-log"
    )
    got: dict[int, Any] = {}
    try:
        server.wait_live()
        start = threading.Barrier(len(rows))

        def call(i: int) -> None:
            body = {"dataframe_split": {"columns": list(rows.columns), "data": [rows.iloc[i].tolist()]}}
            start.wait()
            answer = httpx.post(f"{server.url}/invocations", json=body, headers=headers, timeout=60)
            got[i] = answer.json()["predictions"]

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(rows))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        metrics = httpx.get(f"{server.url}/metrics", headers=headers, timeout=30).text
    finally:
        server.stop()
    assert [got[i][0] for i in range(len(rows))] == expected
    ones = int(re.search(r'keel_serving_batch_rows_bucket\{[^}]*le="1"\} (\d+)', metrics)[1])  # type: ignore[index]
    count = int(re.search(r"keel_serving_batch_rows_count\{[^}]*\} (\d+)", metrics)[1])  # type: ignore[index]
    assert count - ones >= 1 and count < len(rows)  # the model saw a batch of more than one row
