"""KPI expressions and the one evaluation function runs, gates and monitors share."""

from __future__ import annotations

import math

import pytest

from keel.core.errors import InvalidInput
from keel.core.kpi import KPI, as_kpis, evaluate_kpis, parse_kpi


def test_parse_full_expressions() -> None:
    kpi = parse_kpi("demographic_parity_difference <= 0.10 group=gender")
    assert (kpi.metric, kpi.comparator, kpi.threshold, kpi.group, kpi.stage) == (
        "demographic_parity_difference",
        "<=",
        0.10,
        "gender",
        "offline",
    )
    assert kpi.metric_key == "demographic_parity_difference.gender"
    assert parse_kpi("latency_p99_ms <= 50 stage=online").stage == "online"
    sliced = parse_kpi("recall>0.7 slice=region:EU")
    assert sliced.metric_key == "recall.region.EU" and sliced.comparator == ">"
    assert str(parse_kpi("accuracy == 1")) == "accuracy == 1"
    assert parse_kpi(str(sliced)) == sliced


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("accuracy >> 0.9", "unknown comparator '>>'"),
        ("accuracy => 0.9", "unknown comparator"),
        ("accuracy != 0.9", "unknown comparator"),
        ("accuracy >= ninety", "'ninety' .* is not a number"),
        ("accuracy >= nan", "NaN"),
        ("accuracy", "malformed"),
        ("", "malformed"),
        ("1acc >= 3", "bad metric name"),
        ("acc >= 0.9 group=", "unknown option"),
        ("acc >= 0.9 colour=red", "unknown option 'colour=red'"),
        ("acc >= 0.9 group=a group=b", "given twice"),
        ("acc >= 0.9 group=a slice=b:c", "both group= and slice="),
        ("acc >= 0.9 stage=sometimes", "stage must be"),
        ("acc >= 0.9 slice=region", "slice must be"),
    ],
)
def test_malformed_kpis_name_the_problem(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        parse_kpi(text)


def test_kpi_model_accepts_text_and_structure() -> None:
    assert KPI.model_validate("auc >= 0.9") == KPI(metric="auc", comparator=">=", threshold=0.9)
    assert as_kpis(["auc >= 0.9", KPI(metric="f1", comparator=">", threshold=0.5)])[1].metric == "f1"


def test_evaluate_met_missed_not_measured() -> None:
    kpis = as_kpis(
        [
            "accuracy >= 0.85",
            "roc_auc >= 0.90",
            "demographic_parity_difference <= 0.10 group=gender",
            "latency_p99_ms <= 50 stage=online",
            "loss < 1",
        ]
    )
    metrics = {
        "accuracy": 0.85,
        "roc_auc": 0.89,
        "demographic_parity_difference.gender": 0.04,
        "loss": math.nan,
    }
    report = evaluate_kpis(kpis, metrics)
    assert [r.status for r in report.results] == ["met", "missed", "met", "not_measured", "not_measured"]
    assert report.results[2].value == 0.04
    assert not report.passed
    assert report.counts() == {"met": 2, "missed": 1, "not_measured": 2}
    assert report.summary() == "2/5 met, 1 missed, 2 not measured"


def test_evaluate_by_stage() -> None:
    kpis = as_kpis(["accuracy >= 0.85", "latency_p99_ms <= 50 stage=online"])
    online = evaluate_kpis(kpis, {"latency_p99_ms": 42.0}, stage="online")
    assert [r.kpi.metric for r in online.results] == ["latency_p99_ms"]
    assert online.passed
    assert evaluate_kpis([], {}).passed
