"""Monitoring answers the same on local SQLite, local PostgreSQL and a remote server.

Against a server the batch travels as a streamed Parquet body, the reference
statistics are computed from the server's own artifact store, and the HTML
report streams back as ``text/html``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.data import add
from keel.testing.contract.data import data_client  # noqa: F401  (the fixture, re-exported)

from .conftest import churn_table, parquet


def test_create_check_report_and_alert_on_every_backend(
    data_client: Client,  # noqa: F811
    unique: Callable[[str], str],
    tmp_path: Path,
) -> None:
    project = unique("monitoring")
    data_client.projects.create(name=project, kpis=["accuracy >= 0.5 stage=online"])
    path = tmp_path / "train.parquet"
    pq.write_table(churn_table(1500, 1), path)
    add(path, "train", project=project, pointer=False, gitignore=False, client=data_client)
    monitor = data_client.monitors.create(project=project, name="m", reference="train@v1", label="churned")
    assert monitor.features == ["tenure", "spend", "plan"]
    data_client.monitors.add_rule(project=project, monitor="m", expression="drift.count >= 1")

    quiet = data_client.monitors.check(project=project, name="m", data=parquet(churn_table(400, 2)))
    assert not quiet.drifted and quiet.alerts == []
    shifted = data_client.monitors.check(
        project=project, name="m", data=parquet(churn_table(400, 3, shift=1.0))
    )
    assert shifted.drifted and set(shifted.drift.drifted) >= {"tenure", "spend"}
    assert [a.state for a in shifted.alerts] == ["firing"]
    assert data_client.monitors.report(project=project, name="m", evaluation=shifted.id) == shifted
    page = data_client.monitors.report_html(project=project, name="m").read_all().decode()
    assert page.startswith("<!doctype html>") and "<svg" in page
    assert [e.id for e in data_client.monitors.evaluations(project=project, name="m").items] == [
        shifted.id,
        quiet.id,
    ]
    assert [a.id for a in data_client.monitors.alerts(project=project)] == [shifted.alerts[0].id]

    exposition = data_client.monitors.metrics(project=project).read_all().decode()
    assert "# TYPE keel_monitor_figure gauge" in exposition
    assert f'keel_monitor_figure{{project="{project}",monitor="m",figure="drift.share"}} ' in exposition
    share = next(line for line in exposition.splitlines() if 'figure="drift.share"' in line).split()[-1]
    assert float(share) == shifted.figures["drift.share"]

    with pytest.raises(InvalidInput, match="not a Parquet file"):
        data_client.monitors.check(
            project=project, name="m", data=parquet(churn_table(1, 1)).__class__([b"x"])
        )
    with pytest.raises(InvalidInput, match="no figure"):
        data_client.monitors.add_rule(project=project, monitor="m", expression="nope > 1")
    with pytest.raises(NotFound):
        data_client.monitors.get(project=project, name="other")
