"""KPIs: what success means for a project, and the one function that checks them.

A KPI is written ``<metric> <comparator> <threshold> [group=<col>] [slice=<col>:<value>]
[stage=offline|online]``, e.g. ``demographic_parity_difference <= 0.10 group=gender``.
A KPI with ``group=gender`` reads the metric key ``<metric>.gender``; one with
``slice=region:EU`` reads ``<metric>.region.EU``. :func:`evaluate_kpis` is pure
so runs, pipeline gates and monitors all reach the same verdict.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from keel.core.errors import InvalidInput

Comparator = Literal[">=", ">", "<=", "<", "=="]
Stage = Literal["offline", "online"]
KPIStatus = Literal["met", "missed", "not_measured"]

COMPARATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_./\-]*$")
#: The comparator is the first run of punctuation other than the name characters ``._-/``, so a
#: metric such as ``system/gpu_util`` stays whole (with ``/`` left in, it split at the slash).
_EXPR = re.compile(
    r"^\s*(?P<metric>\S+?)\s*(?P<cmp>[^\w\s./\-]+)\s*(?P<threshold>\S+)(?P<rest>(\s+\S+)*)\s*$"
)


class KPI(BaseModel):
    """One measurable target."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str = Field(pattern=_NAME.pattern, max_length=250)
    comparator: Comparator
    threshold: float = Field(allow_inf_nan=False)  # an answer carrying it must be JSON
    group: str | None = Field(default=None, pattern=_NAME.pattern)
    slice: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.\-]+:[^\s]+$")
    stage: Stage = "offline"

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_kpi(value).model_dump()
        return value

    @property
    def metric_key(self) -> str:
        """The metric key this KPI reads from a dict of metrics."""
        if self.group:
            return f"{self.metric}.{self.group}"
        if self.slice:
            column, _, value = self.slice.partition(":")
            return f"{self.metric}.{column}.{value}"
        return self.metric

    @property
    def key(self) -> tuple[str, str | None, str | None, str]:
        """Identity for edits: a new KPI with the same key replaces the old one."""
        return (self.metric, self.group, self.slice, self.stage)

    def __str__(self) -> str:
        text = f"{self.metric} {self.comparator} {_number(self.threshold)}"
        if self.group:
            text += f" group={self.group}"
        if self.slice:
            text += f" slice={self.slice}"
        if self.stage != "offline":
            text += f" stage={self.stage}"
        return text


def _number(value: float) -> str:
    """``0.85`` and ``50`` as written, but every digit when the short form would change the value."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def parse_kpi(text: str) -> KPI:
    """Parse a KPI expression; raises InvalidInput that quotes the expression and says why."""
    match = _EXPR.match(text)
    if not match:
        raise InvalidInput(
            f"malformed KPI {text!r}",
            hint="write '<metric> <comparator> <number> [group=..] [slice=col:value] [stage=..]'",
        )
    metric, cmp, raw_threshold = match["metric"], match["cmp"], match["threshold"]
    if not _NAME.match(metric):
        raise InvalidInput(f"bad metric name {metric!r} in KPI {text!r}")
    if cmp not in COMPARATORS:
        raise InvalidInput(
            f"unknown comparator {cmp!r} in KPI {text!r}",
            hint="use one of " + ", ".join(COMPARATORS),
        )
    try:
        threshold = float(raw_threshold)
    except ValueError:
        raise InvalidInput(f"threshold {raw_threshold!r} in KPI {text!r} is not a number") from None
    if math.isnan(threshold):
        raise InvalidInput(f"threshold in KPI {text!r} is NaN")
    fields: dict[str, Any] = {}
    for option in match["rest"].split():
        name, sep, value = option.partition("=")
        if not sep or name not in {"group", "slice", "stage"} or not value:
            raise InvalidInput(
                f"unknown option {option!r} in KPI {text!r}",
                hint="options are group=<column>, slice=<column>:<value>, stage=offline|online",
            )
        if name in fields:
            raise InvalidInput(f"option {name!r} given twice in KPI {text!r}")
        fields[name] = value
    if "group" in fields and "slice" in fields:
        raise InvalidInput(f"KPI {text!r} has both group= and slice=; use one")
    if fields.get("stage", "offline") not in ("offline", "online"):
        raise InvalidInput(f"stage must be offline or online in KPI {text!r}")
    if "slice" in fields and ":" not in fields["slice"]:
        raise InvalidInput(f"slice must be <column>:<value> in KPI {text!r}")
    try:
        return KPI.model_validate({"metric": metric, "comparator": cmp, "threshold": threshold, **fields})
    except ValueError as exc:
        raise InvalidInput(f"invalid KPI {text!r}: {exc}") from None


#: What a caller may pass where KPIs are expected: a KPI or its text form.
KPISpec = KPI | str


def as_kpis(items: Iterable[KPISpec]) -> list[KPI]:
    """KPIs from KPI objects or expressions; InvalidInput on the first bad expression."""
    return [item if isinstance(item, KPI) else parse_kpi(item) for item in items]


class KPIResult(BaseModel):
    """The verdict on one KPI."""

    kpi: KPI
    metric_key: str
    value: float | None
    status: KPIStatus


class KPIReport(BaseModel):
    """The verdict on a set of KPIs: ``passed`` only when every KPI is met."""

    results: list[KPIResult]

    @property
    def passed(self) -> bool:
        return all(r.status == "met" for r in self.results)

    def counts(self) -> dict[KPIStatus, int]:
        out: dict[KPIStatus, int] = {"met": 0, "missed": 0, "not_measured": 0}
        for r in self.results:
            out[r.status] += 1
        return out

    def summary(self) -> str:
        """Short text such as ``2/3 met, 1 not measured``."""
        c = self.counts()
        text = f"{c['met']}/{len(self.results)} met"
        if c["missed"]:
            text += f", {c['missed']} missed"
        if c["not_measured"]:
            text += f", {c['not_measured']} not measured"
        return text


def evaluate_kpis(
    kpis: Iterable[KPI], metrics: Mapping[str, float], *, stage: Stage | None = None
) -> KPIReport:
    """Check KPIs (optionally one stage's) against a dict of metric values.

    A metric that is absent or NaN is ``not_measured``, never ``met``.
    """
    results = []
    for kpi in kpis:
        if stage is not None and kpi.stage != stage:
            continue
        value = metrics.get(kpi.metric_key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            results.append(KPIResult(kpi=kpi, metric_key=kpi.metric_key, value=None, status="not_measured"))
            continue
        met = COMPARATORS[kpi.comparator](float(value), kpi.threshold)
        results.append(
            KPIResult(
                kpi=kpi,
                metric_key=kpi.metric_key,
                value=float(value),
                status="met" if met else "missed",
            )
        )
    return KPIReport(results=results)
