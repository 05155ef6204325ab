"""Validation fixtures: a local client with a project, and table versions made from generated data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.client import Client

PROJECT = "churn"


def churn_table(
    rows: int, seed: int, *, shift: float = 0.0, plans: tuple[str, ...] = ("basic", "plus", "pro")
) -> pa.Table:
    """A churn-like table: an id, numbers, categories, an email, and a column with 10% nulls."""
    rng = np.random.default_rng(seed)
    start = seed * 1_000_000
    tenure = rng.gamma(2.0, 12.0, rows) + shift * 12
    spend = np.where(rng.random(rows) < 0.1, np.nan, rng.normal(50 + shift * 20, 15, rows))
    return pa.table(
        {
            "customer_id": pa.array(np.arange(start, start + rows)),
            "tenure": tenure,
            "spend": spend,
            "plan": rng.choice(list(plans), rows, p=None),
            "churned": rng.random(rows) < 0.2,
            "email": [f"user{start + i}@example.com" for i in range(rows)],
        }
    )


@pytest.fixture
def client(make_keel: Callable[..., Client]) -> Client:
    made = make_keel()
    made.projects.create(name=PROJECT)
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
