"""Monitoring fixtures: a local client with a project, versioned reference tables, and batches as Parquet bytes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.client import Client
from keel.core.operations import ByteStream

PROJECT = "churn"


def churn_table(
    rows: int, seed: int, *, shift: float = 0.0, plans: tuple[float, ...] = (0.5, 0.3, 0.2)
) -> pa.Table:
    """Churn-like rows: two numbers (one with 10% nulls), a plan, and a 0/1 label that depends on them."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, rows) + shift * 12
    spend = np.where(rng.random(rows) < 0.1, np.nan, rng.normal(50 + shift * 20, 15, rows))
    plan = rng.choice(["basic", "plus", "pro"], rows, p=list(plans))
    churned = (rng.random(rows) < 0.15 + 0.2 * (tenure < 10)).astype(np.int64)
    return pa.table({"tenure": tenure, "spend": spend, "plan": plan, "churned": churned})


def parquet(table: pa.Table) -> ByteStream:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    data = sink.getvalue()
    return ByteStream([data], size=len(data))


@pytest.fixture
def client(make_keel: Callable[..., Client]) -> Client:
    made = make_keel()
    made.projects.create(name=PROJECT, kpis=["accuracy >= 0.7 stage=online"])
    return made


@pytest.fixture
def add_table(client: Client, tmp_path: Path) -> Callable[[str, pa.Table], str]:
    """``add_table(name, table)`` versions the table as ``name`` and returns its address (``name@vN``)."""
    import keel.data

    def add(name: str, table: pa.Table) -> str:
        path = tmp_path / f"{name}-{len(list(tmp_path.glob('*.parquet')))}.parquet"
        pq.write_table(table, path)
        added = keel.data.add(path, name, project=PROJECT, pointer=False, gitignore=False, client=client)
        return f"{name}@v{added.version.number}"

    return add
