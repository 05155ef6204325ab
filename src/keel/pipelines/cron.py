"""Five-field cron schedules (``"0 3 * * *"``): parse once, ask which minutes in a window are due.

The trigger worker only asks "did a scheduled minute fall in (last check,
now]?", so a matcher over minutes is all it needs; written here (about 80
lines) rather than adding a dependency. Fields: minute (0-59), hour (0-23),
day of month (1-31), month (1-12), day of week (0-6, Sunday 0; 7 is Sunday
too). Each field takes ``*``, a number, ``a-b``, ``*/n``, ``a-b/n`` and
comma lists. As in Vixie cron, when both day fields are restricted a day
matching either is due. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from keel.core.errors import InvalidInput

_FIELDS = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)
#: The longest window scanned minute by minute (a worker down for longer fires once, for the newest minute).
MAX_WINDOW = timedelta(days=2)


def _field(text: str, name: str, low: int, high: int, expr: str) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if body == "*":
                start, end = low, high
            elif "-" in body:
                a, b = body.split("-", 1)
                start, end = int(a), int(b)
            else:
                start = end = int(body)
        except ValueError:
            raise InvalidInput(
                f"schedule {expr!r}: {name} field {text!r} is not a number, range or */n"
            ) from None
        if step < 1 or start < low or end > high or start > end:
            raise InvalidInput(f"schedule {expr!r}: {name} field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    """A parsed cron expression."""

    expr: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    def matches(self, at: datetime) -> bool:
        """Whether the minute ``at`` (UTC) is due."""
        if at.minute not in self.minutes or at.hour not in self.hours or at.month not in self.months:
            return False
        day_ok = at.day in self.days
        weekday_ok = (at.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day_ok and weekday_ok
        return day_ok or weekday_ok

    def last_due(self, after: datetime, until: datetime) -> datetime | None:
        """The newest due minute in ``(after, until]``, or None."""
        start = max(after, until - MAX_WINDOW)
        minute = until.replace(second=0, microsecond=0)
        while minute > start:
            if self.matches(minute):
                return minute
            minute -= timedelta(minutes=1)
        return None


def parse_schedule(expr: str) -> Schedule:
    """Parse ``expr``; raises InvalidInput naming the field that is wrong."""
    parts = expr.split()
    if len(parts) != 5:
        raise InvalidInput(
            f"schedule {expr!r}: write five fields, minute hour day-of-month month day-of-week ('0 3 * * *')"
        )
    sets = [_field(p, name, low, high, expr) for p, (name, low, high) in zip(parts, _FIELDS, strict=True)]
    weekdays = frozenset(d % 7 for d in sets[4])
    return Schedule(expr, sets[0], sets[1], sets[2], sets[3], weekdays, parts[2] == "*", parts[4] == "*")
