"""Alert rule expressions: ``<figure> <comparator> <number>``, checked against the figures a monitor makes.

``drift.share > 0.3``, ``feature.age.drifted == 1``, ``kpi.accuracy < 0.8``,
``infra.latency_p95_ms >= 250``. A rule names one figure of its monitor
(:func:`keel.monitoring.evaluate.figure_names` lists them), so a typo is
refused when the rule is added, not silently never firing.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from keel.core.errors import InvalidInput

COMPARATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_RULE = re.compile(r"^\s*(?P<figure>[A-Za-z_][\w.\-]*)\s*(?P<cmp>>=|<=|==|!=|>|<)\s*(?P<number>\S+)\s*$")
SINK_KINDS: Final = ("log", "webhook", "retrain")


@dataclass(frozen=True)
class Rule:
    """A parsed rule: the figure it reads, how it compares, and the threshold."""

    figure: str
    comparator: str
    threshold: float

    def holds(self, figures: Mapping[str, float]) -> tuple[bool, float | None]:
        """Whether the rule holds on these figures, and the figure's value (an absent figure never holds)."""
        value = figures.get(self.figure)
        if value is None or math.isnan(value):
            return False, None
        return COMPARATORS[self.comparator](value, self.threshold), value

    def __str__(self) -> str:
        return f"{self.figure} {self.comparator} {self.threshold:g}"


def parse_rule(text: str, known: Sequence[str]) -> Rule:
    """Parse ``text`` against the figure names ``known``. Raises InvalidInput naming what is wrong."""
    match = _RULE.match(text)
    if match is None:
        raise InvalidInput(
            f"rule {text!r} is not FIGURE COMPARATOR NUMBER",
            hint="for example: drift.share > 0.3 (comparators: > >= < <= == !=)",
        )
    figure, number = match["figure"], match["number"]
    try:
        threshold = float(number)
    except ValueError:
        raise InvalidInput(f"rule {text!r}: {number!r} is not a number") from None
    if not math.isfinite(threshold):
        raise InvalidInput(f"rule {text!r}: the threshold must be a finite number")
    if figure not in known:
        close = difflib.get_close_matches(figure, known, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "figures: " + ", ".join(known[:12])
        raise InvalidInput(f"rule {text!r}: this monitor has no figure {figure!r}", hint=hint)
    return Rule(figure=figure, comparator=match["cmp"], threshold=threshold)


def check_sink(sink: str) -> str:
    """``log``, ``webhook:<http(s) URL>`` or ``retrain``; InvalidInput for anything else.

    ``retrain`` fires the project's retraining triggers registered on the
    monitor's deployment (``drift:<deployment>``, :mod:`keel.pipelines.triggers`).
    """
    kind, _, target = sink.partition(":")
    if kind == "log" and not target:
        return sink
    if kind == "webhook" and re.match(r"^https?://[^\s/]+", target):
        return sink
    if kind == "retrain" and not target:
        return sink
    raise InvalidInput(
        f"sink {sink!r} is not log, webhook:<http(s) URL> or retrain",
        hint="for example: --sink webhook:https://hooks.example.com/keel",
    )
