"""Contract: projects behave the same on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keel.client import Client
from keel.core.errors import AlreadyExists, InvalidInput, NotFound


def test_project_create_get_roundtrip(keel_client: Client, unique: Callable[[str], str]) -> None:
    name = unique("churn")
    created = keel_client.projects.create(
        name=name,
        description="Predict which customers cancel within 30 days",
        objectives=["Cut churn by targeting retention offers"],
        kpis=[
            "accuracy >= 0.85",
            "demographic_parity_difference <= 0.10 group=gender",
            "latency_p99_ms <= 50 stage=online",
            "recall > 0.5 slice=region:EU",
        ],
    )
    fetched = keel_client.projects.get(name)
    assert fetched == created
    assert fetched.objectives == ["Cut churn by targeting retention offers"]
    assert [k.metric_key for k in fetched.kpis] == [
        "accuracy",
        "demographic_parity_difference.gender",
        "latency_p99_ms",
        "recall.region.EU",
    ]
    assert fetched.kpis[2].stage == "online"
    assert len(fetched.id) == 26


def test_project_duplicate_name_is_refused(keel_client: Client, unique: Callable[[str], str]) -> None:
    name = unique("dup")
    keel_client.projects.create(name=name, description="first")
    with pytest.raises(AlreadyExists, match=name):
        keel_client.projects.create(name=name, description="second")
    assert keel_client.projects.get(name).description == "first"


def test_project_unknown_is_not_found(keel_client: Client, unique: Callable[[str], str]) -> None:
    with pytest.raises(NotFound, match="no project named"):
        keel_client.projects.get(unique("missing"))


@pytest.mark.parametrize(
    ("kpi", "reason"),
    [
        ("accuracy >> 0.9", "unknown comparator"),
        ("accuracy >= high", "not a number"),
        ("accuracy", "malformed"),
        ("accuracy >= 0.9 colour=red", "unknown option"),
    ],
)
def test_project_bad_kpi_changes_nothing(
    keel_client: Client, unique: Callable[[str], str], kpi: str, reason: str
) -> None:
    name = unique("bad")
    with pytest.raises(InvalidInput, match=reason):
        keel_client.projects.create(name=name, kpis=[kpi])
    with pytest.raises(NotFound):
        keel_client.projects.get(name)


def test_project_edit_upserts_and_removes_kpis(keel_client: Client, unique: Callable[[str], str]) -> None:
    name = unique("edit")
    keel_client.projects.create(name=name, kpis=["accuracy >= 0.85", "roc_auc >= 0.9"])
    edited = keel_client.projects.edit(name=name, kpis=["accuracy >= 0.88"], description="new")
    assert [str(k) for k in edited.kpis] == ["accuracy >= 0.88", "roc_auc >= 0.9"]
    assert edited.description == "new"
    edited = keel_client.projects.edit(name=name, remove_kpis=["roc_auc"])
    assert [k.metric for k in edited.kpis] == ["accuracy"]
    with pytest.raises(InvalidInput, match="no KPI on metric"):
        keel_client.projects.edit(name=name, remove_kpis=["roc_auc"], description="changed?")
    assert keel_client.projects.get(name).description == "new"


def test_project_listing_pages(keel_client: Client, unique: Callable[[str], str]) -> None:
    prefix = unique("page")
    for i in range(5):
        keel_client.projects.create(name=f"{prefix}-{i}")
    seen: list[str] = []
    token = None
    while True:
        page = keel_client.projects.ls(limit=2, page_token=token)
        assert len(page.items) <= 2
        seen.extend(p.name for p in page.items)
        token = page.next_token
        if token is None:
            break
    mine = [n for n in seen if n.startswith(prefix)]
    assert mine == [f"{prefix}-{i}" for i in range(5)]
    assert seen == sorted(seen)
    with pytest.raises(InvalidInput, match="page token"):
        keel_client.projects.ls(page_token="not-a-token")


def test_project_kpi_evaluation(keel_client: Client, unique: Callable[[str], str]) -> None:
    name = unique("eval")
    keel_client.projects.create(
        name=name,
        kpis=[
            "accuracy >= 0.85",
            "demographic_parity_difference <= 0.1 group=gender",
            "latency_p99_ms <= 50 stage=online",
        ],
    )
    report = keel_client.projects.evaluate(
        name=name, metrics={"accuracy": 0.9, "demographic_parity_difference.gender": 0.2}, stage="offline"
    )
    assert [r.status for r in report.results] == ["met", "missed"]
    assert not report.passed
    report = keel_client.projects.evaluate(name=name, metrics={"accuracy": 0.9})
    assert [r.status for r in report.results] == ["met", "not_measured", "not_measured"]
