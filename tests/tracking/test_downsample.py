"""Min/max per bucket: bounded output, extremes and gaps kept, ranges honoured, bad inputs named."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.core.errors import InvalidInput
from keel.tracking.downsample import downsample


def test_a_short_series_comes_back_whole_with_gaps_for_nan_and_inf() -> None:
    cut = downsample([0, 1, 2, 3], [1.0, math.nan, math.inf, -math.inf])
    assert cut.steps == [0, 1, 2, 3] and cut.values == [1.0, None, None, None]
    assert cut.total == 4 and not cut.downsampled


def test_a_million_points_become_at_most_the_points_asked_for_keeping_the_extremes() -> None:
    steps = np.arange(1_000_000)
    values = np.sin(steps / 5_000.0)
    values[123_457] = 50.0  # a one-step spike
    values[654_321] = -50.0
    values[900_000] = np.nan
    cut = downsample(steps, values, points=2000)
    assert cut.downsampled and cut.total == 1_000_000 and len(cut.steps) <= 2000
    assert 123_457 in cut.steps and 654_321 in cut.steps  # LTTB may drop these; min/max cannot
    assert cut.values[cut.steps.index(900_000)] is None  # the gap is kept
    assert cut.steps == sorted(cut.steps)


def test_a_zoom_range_returns_finer_detail_of_that_range_only() -> None:
    steps = np.arange(100_000)
    cut = downsample(steps, steps.astype(float), points=1000, lo=40_000, hi=40_500)
    assert cut.steps == list(range(40_000, 40_501)) and cut.total == 501 and not cut.downsampled
    assert downsample(steps, steps.astype(float), lo=200_000).total == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"points": 2}, "points must be between 3 and 20000"),
        ({"points": 20_001}, "points must be between 3 and 20000"),
        ({"lo": 10, "hi": 9}, "zoom range is empty: from step 10 is after step 9"),
    ],
)
def test_bad_requests_are_refused_naming_what_was_wrong(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        downsample([1, 2, 3], [1.0, 2.0, 3.0], **kwargs)
    with pytest.raises(InvalidInput, match="same length"):
        downsample([1, 2, 3], [1.0, 2.0])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=400),
    points=st.integers(3, 60),
)
def test_every_point_kept_is_a_real_point_and_each_buckets_extremes_survive(
    values: list[float], points: int
) -> None:
    steps = list(range(0, 3 * len(values), 3))
    cut = downsample(steps, values, points=points)
    assert len(cut.steps) <= max(points, len(values) if len(values) <= points else points)
    by_step = dict(zip(steps, values, strict=True))
    for step, value in zip(cut.steps, cut.values, strict=True):
        original = by_step[step]
        assert (value is None) == (not math.isfinite(original))
        assert value is None or value == original
    finite = [v for v in values if math.isfinite(v)]
    kept = [v for v in cut.values if v is not None]
    if finite:
        assert min(kept) == min(finite) and max(kept) == max(finite)
    assert any(v is None for v in cut.values) == (len(finite) < len(values))
