"""Monitor schedules: aligned windows, each closed one judged once, empty ones passed over."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.monitoring.schedule import closed_windows, run_due
from keel.testing.auth import AuthWorld

from .test_windows import _log, iris, world  # noqa: F401  (fixtures)

T = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)


def test_closed_windows_are_aligned_and_start_after_the_last_one() -> None:
    hour = 3600
    assert closed_windows(hour, None, T, 3) == [
        (T.replace(minute=0) - timedelta(hours=h + 1), T.replace(minute=0) - timedelta(hours=h))
        for h in (2, 1, 0)
    ]
    last = T.replace(minute=0) - timedelta(hours=1)
    assert closed_windows(hour, last, T, 3) == [(last, T.replace(minute=0))]
    assert closed_windows(hour, T.replace(minute=0), T, 3) == []


def test_run_due_judges_each_closed_window_once(world: AuthWorld, iris: Any) -> None:  # noqa: F811
    admin = world.client(world.admin_token)
    admin.monitors.create(
        project="iris", name="hourly", reference="iris-train@v1", deployment="iris-prod", window="1h"
    )
    now = time.time()
    hour_start = now - now % 3600
    _log(world, iris, 120, 7, at=hour_start - 1800)  # inside the last closed window
    first = run_due(world.ctx)
    assert len(first) == 1 and first[0].rows == 120
    assert first[0].window_end == datetime.fromtimestamp(hour_start, UTC)
    assert run_due(world.ctx) == []  # judged once
    listed = admin.monitors.evaluations(project="iris", name="hourly").items
    assert [e.source for e in listed] == ["window"]
