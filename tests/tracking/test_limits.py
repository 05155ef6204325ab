"""Input at the edge: batches of any width fit the driver, too-large ones are a 413 naming the limit,
out-of-range numbers and NUL characters are a 422 naming the field, and a project's cost never overflows."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

import keel
import keel.sdk
from keel.client import Client
from keel.core.errors import InvalidInput, NotFound, PayloadTooLarge
from keel.tracking.models import RunRow
from keel.tracking.write import MAX_BATCH_ENTRIES, MAX_BATCH_POINTS

WIDE = 14_000  # distinct keys: 70,000 bound parameters for the final values, over every driver's limit


def _project(client: Client, unique: Callable[[str], str]) -> str:
    name = unique("lim")
    client.projects.create(name=name)
    return name


@pytest.mark.slow
def test_a_batch_of_14000_distinct_keys_is_stored_whole(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    series = {f"m{i}": ([0], [1_700_000_000_000], [float(i)]) for i in range(WIDE)}
    assert keel_client.runs.log_batch(run_id=run.id, series=series).metrics == WIDE
    tags = {f"t{i}": "x" for i in range(MAX_BATCH_ENTRIES)}
    assert keel_client.runs.log_batch(run_id=run.id, tags=tags).tags == MAX_BATCH_ENTRIES
    stored = keel_client.runs.get(run_id=run.id)
    assert len(stored.metrics) == WIDE and stored.metrics["m13999"] == 13999.0
    assert len(stored.tags) == MAX_BATCH_ENTRIES


def test_a_batch_wider_than_the_api_is_413_naming_the_limit(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    n = MAX_BATCH_POINTS + 1
    with pytest.raises(PayloadTooLarge, match=f"at most {MAX_BATCH_POINTS:,} metric points"):
        keel_client.runs.log_batch(run_id=run.id, series={"m": (list(range(n)), [1] * n, [0.0] * n)})
    with pytest.raises(PayloadTooLarge, match=f"at most {MAX_BATCH_ENTRIES:,} params and tags"):
        keel_client.runs.log_batch(run_id=run.id, params={f"p{i}": i for i in range(MAX_BATCH_ENTRIES + 1)})
    assert keel_client.runs.get(run_id=run.id).metrics == {}


@pytest.mark.slow
def test_the_sdk_logs_14000_keys_and_ends_with_all_of_them(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    client.projects.create(name="wide")
    keel.sdk._default, keel.sdk._project = client, "wide"
    with keel.start_run(system_metrics=False, capture_env=False) as run:
        run.log_metrics({f"feature_importance/f{i}": i / WIDE for i in range(WIDE)}, step=0)
        run.log_params({f"p{i}": i for i in range(MAX_BATCH_ENTRIES + 5)})  # sent as two batches
    stored = client.runs.get(run_id=run.id)
    assert (
        stored.status == "FINISHED"
        and len(stored.metrics) == WIDE
        and len(stored.params) == MAX_BATCH_ENTRIES + 5
    )


@pytest.mark.parametrize(
    ("batch", "field"),
    [
        ({"metrics": [("m", 1.0, 2**63, 1)]}, "metrics.0.2"),  # the step's place in the point
        ({"metrics": [("m", 1.0, 0, 2**63)]}, "metrics.0.3"),  # the timestamp's
        ({"metrics": [("m", 1.0, -(2**63) - 1, 1)]}, "metrics.0.2"),
        ({"series": {"m": ([2**63], [1], [1.0])}}, "series.m.0.0"),
        ({"params": {"p": "a\x00b"}}, "param 'p' contains a NUL"),
        ({"tags": {"t": "a\x00b"}}, "tag 't' contains a NUL"),
        ({"tags": {"a\x00b": "v"}}, "tag key"),
        ({"metrics": [("a\x00b", 1.0, 0, 1)]}, "metric key"),
    ],
)
def test_out_of_range_numbers_and_nul_are_refused_naming_the_field(
    keel_client: Client, unique: Callable[[str], str], batch: dict[str, Any], field: str
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match=re.escape(field)):
        keel_client.runs.log_batch(run_id=run.id, **batch)
    stored = keel_client.runs.get(run_id=run.id)
    assert (stored.metrics, stored.params, stored.tags) == ({}, {}, {})


def test_the_sdk_checks_steps_and_timestamps_before_buffering(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    client.projects.create(name="p")
    keel.sdk._default, keel.sdk._project = client, "p"
    with keel.start_run(system_metrics=False, capture_env=False) as run:
        with pytest.raises(InvalidInput, match="step 9223372036854775808 is out of range"):
            run.log_metric("m", 1.0, step=2**63)
        with pytest.raises(InvalidInput, match="timestamp"):
            run.log_metric("m", 1.0, timestamp=2**64)
        with pytest.raises(InvalidInput, match="step"):
            run.log_metrics({"m": 1.0}, step=-(2**63) - 1)
        with pytest.raises(InvalidInput, match="NUL"):
            run.set_tag("t", "a\x00b")
        with pytest.raises(InvalidInput, match="NUL"):
            run.log_param("p", "a\x00b")
    assert client.runs.get(run_id=run.id).metrics == {}


def test_energy_and_price_ranges_at_the_edge(keel_client: Client, unique: Callable[[str], str]) -> None:
    project = _project(keel_client, unique)
    for price in (-0.01, 1e308, 1e6 + 1):
        with pytest.raises(InvalidInput, match="hourly_price"):
            keel_client.runs.create(project=project, hourly_price=price)
    runs = [keel_client.runs.create(project=project) for _ in range(2)]
    for run in runs:
        for energy in (-1.0, 1e308):
            with pytest.raises(InvalidInput, match="energy_kwh must be a number from 0"):
                keel_client.runs.end(run_id=run.id, energy_kwh=energy)
        keel_client.runs.end(run_id=run.id, energy_kwh=1e9)  # the largest a run may report
    total = keel_client.runs.cost(project=project)
    assert total.runs == 2 and total.energy_kwh == pytest.approx(2e9)


def test_values_stored_before_the_checks_never_break_the_cost(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    client.projects.create(name="b")
    ids = [client.runs.create(project="b").id for _ in range(3)]
    for run_id in ids:
        client.runs.end(run_id=run_id, energy_kwh=2.0)
    with client.backend.ctx.store.write() as session:  # type: ignore[attr-defined]
        session.execute(update(RunRow).where(RunRow.id.in_(ids[:2])).values(energy_kwh=1e308, cost=-5.0))
    total = client.runs.cost(project="b")
    assert total.runs == 3 and total.energy_kwh == 2.0 and total.cost == 0.0


def test_ids_and_batch_names_no_database_could_store_are_refused(
    keel_client: Client, unique: Callable[[str], str]
) -> None:
    project = _project(keel_client, unique)
    run = keel_client.runs.create(project=project)
    with pytest.raises(InvalidInput, match="client_id"):
        keel_client.runs.log_batch(run_id=run.id, client_id="a\x00b", seq=1, metrics=[("m", 1.0, 0, 1)])
    with pytest.raises(InvalidInput, match="seq"):
        keel_client.runs.log_batch(run_id=run.id, client_id="c", seq=2**63, metrics=[("m", 1.0, 0, 1)])
    for bad in ("a\x00b", "x" * 65):
        with pytest.raises(NotFound, match="no run with id"):
            keel_client.runs.get(run_id=bad)
        with pytest.raises(NotFound, match="no run with id"):
            keel_client.runs.create(project=project, parent_id=bad)
    assert keel_client.runs.get(run_id=run.id).metrics == {}
