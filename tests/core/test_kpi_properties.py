"""KPI evaluation and the KPI language, by property: every comparison at, just above and just below its threshold.

Issue 10.13: a mutant turning ``<=`` into ``<`` in KPI evaluation survived the
whole suite, because no test put a metric exactly at its threshold. Here each
comparator is checked at the threshold and at the neighbouring floats on both
sides, against Python's own operators; text round-trips; NaN or absence is
never "met".
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.core.errors import InvalidInput
from keel.core.kpi import KPI, evaluate_kpis, parse_kpi

PYTHON: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
#: What each comparator says at the threshold, just above it and just below it.
EXPECTED = {
    ">=": (True, True, False),
    ">": (False, True, False),
    "<=": (True, False, True),
    "<": (False, False, True),
    "==": (True, False, False),
}
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
comparators = st.sampled_from(sorted(PYTHON))
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_./\-]{0,20}", fullmatch=True)


def status(comparator: str, threshold: float, value: float | None) -> str:
    kpi = KPI(metric="m", comparator=comparator, threshold=threshold)
    metrics = {} if value is None else {"m": value}
    return evaluate_kpis([kpi], metrics).results[0].status


@pytest.mark.parametrize("comparator", sorted(PYTHON))
@pytest.mark.parametrize("threshold", [0.0, -0.0, 0.1, 0.85, -3.5, 50.0, 1e-300, 1e300])
def test_each_comparator_at_and_beside_its_threshold(comparator: str, threshold: float) -> None:
    at, above, below = EXPECTED[comparator]
    expected = ["met" if x else "missed" for x in (at, above, below)]
    values = [threshold, math.nextafter(threshold, math.inf), math.nextafter(threshold, -math.inf)]
    assert [status(comparator, threshold, v) for v in values] == expected


@given(comparator=comparators, threshold=finite, value=finite)
def test_evaluation_is_pythons_comparison(comparator: str, threshold: float, value: float) -> None:
    expected = "met" if PYTHON[comparator](value, threshold) else "missed"
    assert status(comparator, threshold, value) == expected


@given(comparator=comparators, threshold=finite)
def test_boundaries_hold_for_any_threshold(comparator: str, threshold: float) -> None:
    at, above, below = EXPECTED[comparator]
    assert (status(comparator, threshold, threshold) == "met") is at
    assert (status(comparator, threshold, math.nextafter(threshold, math.inf)) == "met") is above
    assert (status(comparator, threshold, math.nextafter(threshold, -math.inf)) == "met") is below


@given(comparator=comparators, threshold=finite)
def test_nan_or_absent_is_never_met(comparator: str, threshold: float) -> None:
    assert status(comparator, threshold, math.nan) == "not_measured"
    assert status(comparator, threshold, None) == "not_measured"


@given(
    comparator=comparators,
    threshold=st.floats(allow_nan=False, allow_infinity=False, width=64),  # inf: no JSON answer holds it
    metric=names,
    option=st.sampled_from(["", " group=gender", " slice=region:EU", " stage=online"]),
)
def test_text_round_trips(comparator: str, threshold: float, metric: str, option: str) -> None:
    """``parse_kpi(str(kpi)) == kpi``: what ``keel project show`` prints can be pasted back exactly."""
    kpi = parse_kpi(f"{metric} {comparator} {threshold!r}{option}")
    assert kpi.threshold == threshold and kpi.comparator == comparator and kpi.metric == metric
    assert parse_kpi(str(kpi)) == kpi


@given(
    kpis=st.lists(st.tuples(names, comparators, finite), min_size=1, max_size=6, unique_by=lambda k: k[0]),
    data=st.data(),
)
def test_a_report_passes_only_when_every_kpi_is_met(
    kpis: list[tuple[str, str, float]], data: st.DataObject
) -> None:
    parsed = [KPI(metric=m, comparator=c, threshold=t) for m, c, t in kpis]
    metrics = {
        m: data.draw(st.one_of(st.just(t), finite, st.just(math.nan)))
        for m, _, t in kpis
        if data.draw(st.booleans())
    }
    report = evaluate_kpis(parsed, metrics)
    expected = []
    for m, c, t in kpis:
        value = metrics.get(m)
        if value is None or math.isnan(value):
            expected.append("not_measured")
        else:
            expected.append("met" if PYTHON[c](value, t) else "missed")
    assert [r.status for r in report.results] == expected
    assert report.passed is all(s == "met" for s in expected)
    counts = report.counts()
    assert sum(counts.values()) == len(kpis) and counts["met"] == expected.count("met")


def test_stage_selects_and_keys_read_the_right_metric() -> None:
    kpis = [
        parse_kpi("auc >= 0.9"),
        parse_kpi("latency <= 50 stage=online"),
        parse_kpi("dpd <= 0.1 group=gender"),
        parse_kpi("recall > 0.7 slice=region:EU"),
    ]
    metrics = {"auc": 0.9, "latency": 50.0, "dpd.gender": 0.1, "dpd": 5.0, "recall.region.EU": 0.7}
    offline = evaluate_kpis(kpis, metrics, stage="offline")
    assert [(r.metric_key, r.status) for r in offline.results] == [
        ("auc", "met"),
        ("dpd.gender", "met"),
        ("recall.region.EU", "missed"),
    ]
    assert [r.status for r in evaluate_kpis(kpis, metrics, stage="online").results] == ["met"]
    assert len(evaluate_kpis(kpis, metrics).results) == 4
    assert offline.summary() == "2/3 met, 1 missed"


@pytest.mark.parametrize("text", ["auc >= 0.9 stage=later", "auc ≥ 0.9", "auc >= 1e999x", "auc <> 1"])
def test_bad_expressions_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_kpi(text)


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("accuracy", "malformed KPI 'accuracy'", "write '<metric> <comparator> <number> [group=..] [slice=col:value] [stage=..]'"),
        ("acc >> 1", "unknown comparator '>>' in KPI 'acc >> 1'", "use one of >=, >, <=, <, =="),
        ("acc >= 1 colour=red", "unknown option 'colour=red' in KPI 'acc >= 1 colour=red'", "options are group=<column>, slice=<column>:<value>, stage=offline|online"),
        ("acc >= x", "threshold 'x' in KPI 'acc >= x' is not a number", None),
        ("acc >= 1 stage=later", "stage must be offline or online in KPI 'acc >= 1 stage=later'", None),
    ],
)  # fmt: skip
def test_errors_say_exactly_what_and_how(text: str, message: str, hint: str | None) -> None:
    """The whole message and hint, so a mutant that drops or garbles either is noticed."""
    with pytest.raises(InvalidInput) as info:
        parse_kpi(text)
    assert info.value.message == message and info.value.hint == hint


def test_an_option_value_may_hold_an_equals_sign() -> None:
    assert parse_kpi("acc >= 1 slice=region:a=b").slice == "region:a=b"


def test_a_metric_name_too_long_is_named() -> None:
    text = "a" * 251 + " >= 1"
    with pytest.raises(InvalidInput) as info:
        parse_kpi(text)
    assert info.value.message.startswith(f"invalid KPI {text!r}: ") and "250" in info.value.message
