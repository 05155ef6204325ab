"""Durations and windows as users write them: ``1h``, ``30m``, ``PT1H``, ``2026-11-29T10:00/PT1H``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from keel.core.errors import InvalidInput

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SHORT = re.compile(r"^(\d+)([smhdw])$")
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str) -> int:
    """Seconds in ``text`` (``90s``, ``30m``, ``1h``, ``7d``, ``1w`` or ISO 8601 ``PT1H``, ``P1D``).

    Raises InvalidInput for anything else or a zero duration.
    """
    value = text.strip()
    short = _SHORT.match(value)
    seconds = None
    if short:
        seconds = int(short[1]) * _UNITS[short[2]]
    else:
        iso = _ISO.match(value.upper())
        if iso and value.upper() not in ("P", "PT"):
            d, h, m, s = (int(g) if g else 0 for g in iso.groups())
            seconds = d * 86400 + h * 3600 + m * 60 + s
    if seconds is None:
        raise InvalidInput(f"window {text!r} is not a duration", hint="write 30m, 1h, 1d or PT1H")
    if seconds <= 0:
        raise InvalidInput(f"window {text!r} is empty; a window lasts at least one second")
    return seconds


def parse_window(text: str) -> tuple[datetime, datetime]:
    """``START/DURATION`` (``2026-11-29T10:00/PT1H``; a start without zone is UTC) as (since, until)."""
    start_text, sep, duration = text.partition("/")
    if not sep:
        raise InvalidInput(f"window {text!r} is not START/DURATION", hint="for example 2026-11-29T10:00/PT1H")
    try:
        start = datetime.fromisoformat(start_text.strip())
    except ValueError:
        raise InvalidInput(f"window {text!r}: {start_text!r} is not an ISO 8601 time") from None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return start, start + timedelta(seconds=parse_duration(duration))
