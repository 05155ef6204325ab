"""Monitor schedules: evaluate each closed window of every monitor that watches a deployment, once.

Windows are aligned to the epoch by the monitor's window length (an hourly
monitor judges 10:00-11:00, 11:00-12:00, ...). :func:`run_due` evaluates
every window that has closed since the monitor's newest evaluated window
(at most ``catch_up`` of them, newest last); a window the log holds nothing
for is passed over. It is meant for the one leased background worker of
``keel server`` (``keel.pipelines.worker``), so several replicas never judge
a window twice; until that worker calls it, ``keel monitor run`` does the same
for one window by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from keel.context import Context
from keel.core.errors import InvalidInput
from keel.monitoring.models import EvaluationRow, MonitorRow
from keel.monitoring.schemas import MonitorReport


def closed_windows(
    window_s: int, last_end: datetime | None, now: datetime, catch_up: int
) -> list[tuple[datetime, datetime]]:
    """The aligned windows that closed after ``last_end`` and by ``now``, at most ``catch_up``, oldest first."""
    step = timedelta(seconds=window_s)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    latest_end = epoch + step * ((now - epoch) // step)
    windows: list[tuple[datetime, datetime]] = []
    end = latest_end
    while len(windows) < catch_up and (last_end is None or end > last_end):
        windows.append((end - step, end))
        end -= step
    return windows[::-1]


def run_due(ctx: Context, *, now: datetime | None = None, catch_up: int = 3) -> list[MonitorReport]:
    """Evaluate every due window of every monitor that watches a deployment; the reports made."""
    from keel.monitoring.service import MonitorService

    now = now or datetime.now(UTC)
    with ctx.store.read() as session:
        rows = session.execute(
            select(MonitorRow.id, MonitorRow.name, MonitorRow.settings)
            .where(MonitorRow.deployment.is_not(None))
            .order_by(MonitorRow.id)
        ).all()
        ends = dict(
            session.execute(
                select(EvaluationRow.monitor_id, func.max(EvaluationRow.window_end))
                .where(EvaluationRow.source == "window")
                .group_by(EvaluationRow.monitor_id)
            ).all()
        )
    service = MonitorService(ctx)
    made = []
    for monitor_id, name, settings in rows:
        project = str(settings["project"])  # recorded at creation: the projects table is not ours to read
        last = ends.get(monitor_id)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        for since, until in closed_windows(int(settings["window_s"]), last, now, catch_up):
            try:
                made.append(service.run(project, name, since=since, until=until))
            except InvalidInput:  # nothing logged in that window: nothing to judge
                continue
    return made
