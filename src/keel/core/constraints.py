"""The rules an operation's inputs must follow, each defined once so that it both checks and documents.

An operation's input model is derived from its signature (``keel.core.operations``),
and the REST spec from that model. A rule written inside a service body
(``if not 1 <= limit <= 1000: raise InvalidInput(...)``) refuses input the spec
calls valid: a client generated from ``/openapi.json`` cannot know it, and a
fuzzer reports every such refusal. A rule written as one of these annotated
types is checked by pydantic in the input model *and* stated in the spec
(``pattern``, ``minLength``/``maxLength``, ``minimum``/``maximum``,
``minItems``/``maxItems``), from the same definition::

    def ls(self, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None): ...

Each type words its refusal as the capability always has ("limit must be
between 1 and 1000, got 5000"), so messages, hints in docs and tests keep their
meaning; a value of the wrong type keeps pydantic's own message.

Where a rule cannot be stated in JSON Schema (what a page token decodes to,
whether a KPI names the same metric twice), the type states as much as a
pattern can and the capability keeps its semantic check; ``tests/server/
test_spec_constraints.py`` lists each such check with its reason.

Patterns are written for three regex engines at once (pydantic's Rust engine,
Python's ``re`` in Hypothesis, ECMA-262 in clients): ASCII classes spelt out,
never ``\\d``, ``\\w`` or ``\\s``, whose meaning differs between them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Final, Literal, Union

from annotated_types import Ge, Le, Len
from pydantic import (
    AfterValidator,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from keel.core.kpi import KPI
from keel.core.paging import MAX_PAGE_SIZE
from keel.core.refs import KINDS

__all__ = [
    "KEY_PATTERN",
    "KPI_PATTERN",
    "POINT_KEYS",
    "TAGS",
    "AlertSink",
    "AliasName",
    "ArtifactPath",
    "Cooldown",
    "DatasetAddress",
    "DatasetRef",
    "DedupKey",
    "DiffExamples",
    "Digest",
    "Digests",
    "Duration",
    "Email",
    "EndStatus",
    "EnergyKwh",
    "GraceSeconds",
    "HourlyPrice",
    "IdOrPrefix",
    "KeepLast",
    "KeyName",
    "KpiSpec",
    "KpiText",
    "Limit",
    "LineageDepth",
    "MetricKey",
    "PageToken",
    "ParamKey",
    "Percent",
    "PipelineEndStatus",
    "PipelineTarget",
    "PointKey",
    "ProjectName",
    "Reference",
    "Relation",
    "RunInput",
    "RunName",
    "Since1970",
    "TagKey",
    "TagValue",
    "Tolerance",
    "TriggerEvent",
    "VersionRef",
    "between",
    "int_up_to",
    "worded",
]

#: The refusals a type rewords: a value of the right type that breaks the stated rule.
_RULE_ERRORS: Final = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "too_short",
        "too_long",
        "literal_error",
    }
)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 82 else f"{text[:79]}..."


def worded(message: Callable[[Any], str]) -> WrapValidator:
    """Word a broken rule as ``message(value)`` (the capability's own wording); other errors pass."""

    def reword(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            if all(err["type"] in _RULE_ERRORS for err in exc.errors()):
                raise PydanticCustomError("keel_rule", message(value)) from None
            raise

    return WrapValidator(reword)


def between(what: str, low: float, high: float) -> WrapValidator:
    """Word a number outside ``low``..``high`` as "``what`` must be between ...": pair it with the
    ``Ge(low), Le(high)`` that state the range (``Annotated[int, Ge(1), Le(50), between(...)]``)."""
    return worded(lambda v: f"{what} must be between {low:g} and {high:g}, got {_shown(v)}")


def int_up_to(high: int) -> str:
    """A regex (no anchors) for the whole numbers 1..``high`` written without leading zeros."""
    digits = str(high)
    parts: list[str] = []
    if len(digits) > 1:
        parts.append(f"[1-9][0-9]{{0,{len(digits) - 2}}}")
    for index, digit in enumerate(digits):
        low = 1 if index == 0 else 0
        top = int(digit) - 1
        if top >= low:
            rest = len(digits) - index - 1
            tail = f"[0-9]{{{rest}}}" if rest else ""
            parts.append(f"{digits[:index]}[{low}-{top}]{tail}")
    parts.append(digits)
    return "(?:" + "|".join(parts) + ")"


# ---- paging ---------------------------------------------------------------------------------

#: A page size.
Limit = Annotated[
    int,
    Ge(1),
    Le(MAX_PAGE_SIZE),
    worded(lambda v: f"limit must be between 1 and {MAX_PAGE_SIZE}, got {_shown(v)}"),
]
#: An opaque next-page token as a listing returned it (URL-safe base64 without padding). What it
#: decodes to can only be checked by decoding it: a well-formed but foreign token stays a 422.
PageToken = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9_\-]*$", max_length=32768),
    worded(lambda v: "page token is not valid; start again without it"),
]

# ---- names ----------------------------------------------------------------------------------

_NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
#: A project's name (also a dataset's, a model's, a deployment's).
ProjectName = Annotated[str, StringConstraints(pattern=_NAME_PATTERN, min_length=1, max_length=100)]
#: A model alias: a word, never a number (``churn@3`` always means version 3).
AliasName = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,99}$"),
    worded(
        lambda v: (
            f"alias {_shown(v)} is a number; `name@{v}` means version {v}, so pick a word"
            if isinstance(v, str) and v.isdigit()
            else f"alias {_shown(v)} is not a valid name: start with a letter; letters, digits, '_' and '-' only"
        )
    ),
]
#: What a metric, param or tag key, a run's name or a lineage relation may be (``keel.tracking``).
KEY_PATTERN: Final = r"^[A-Za-z0-9_./ \-]{1,250}$"
_KEY_RULE: Final = StringConstraints(pattern=KEY_PATTERN)


def _key_words(what: str) -> WrapValidator:
    return worded(lambda v: f"{what} {_shown(v)} must be 1 to 250 letters, digits and '_./ -'")


#: A key of any kind.
KeyName = Annotated[str, _KEY_RULE, _key_words("key")]
MetricKey = Annotated[str, _KEY_RULE, _key_words("metric key")]
ParamKey = Annotated[str, _KEY_RULE, _key_words("param key")]
TagKey = Annotated[str, _KEY_RULE, _key_words("tag key")]
RunName = Annotated[str, _KEY_RULE, _key_words("run name")]
Relation = Annotated[str, _KEY_RULE, _key_words("relation")]
#: A metric key in a batch's points: the same rule, checked without a Python call per point (a
#: batch carries up to 100,000); :data:`POINT_KEYS` on the list words a refusal.
PointKey = Annotated[str, _KEY_RULE]


def _reword_point_keys(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        errors = exc.errors()
        if not all(e["type"] == "string_pattern_mismatch" for e in errors):
            raise
        where = "; ".join(
            f"point {e['loc'][0]}: metric key {_shown(e['input'])} must be 1 to 250 letters, digits and '_./ -'"
            for e in errors[:5]
        )
        raise PydanticCustomError("keel_rule", where) from None


#: On a list of points whose keys are :data:`PointKey`: one Python call per batch, and only a
#: refusal pays for the wording.
POINT_KEYS: Final = WrapValidator(_reword_point_keys)

#: A tag's value: any text but NUL, which no database stores in text. On a dict of tags,
#: :data:`TAGS` words a refusal naming the tag.
TagValue = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def _reword_tags(value: Any, handler: Callable[[Any], Any]) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = err["loc"]
            if err["type"] == "string_pattern_mismatch" and len(loc) == 1:
                problems.append(f"tag {_shown(loc[0])} contains a NUL character (\\x00)")
            elif err["type"] == "keel_rule":
                problems.append(str(err["msg"]))
            else:
                raise
        raise PydanticCustomError("keel_rule", "; ".join(problems[:5])) from None


#: On ``dict[TagKey, TagValue]``: each refusal names its tag.
TAGS: Final = WrapValidator(_reword_tags)

# ---- content addresses and references -------------------------------------------------------

#: A BLAKE3 digest: 64 lowercase hex characters.
Digest = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    worded(lambda v: f"not a BLAKE3 digest: {_shown(v)} (expected 64 lowercase hex characters)"),
]
#: Every kind but ``artifact``, whose id is a digest.
_KINDS: Final = "|".join(sorted(KINDS - {"artifact"}))
#: A typed reference ``kind:<id>`` (``keel.core.refs``); an artifact's id is its digest.
Reference = Annotated[
    str,
    StringConstraints(pattern=rf"^(?:artifact:[0-9a-f]{{64}}|(?:{_KINDS}):[A-Za-z0-9._@/\-]{{1,200}})$"),
    worded(lambda v: f"not a reference: {_shown(v)} (write kind:<id>, e.g. run:01J2...)"),
]
_ID_CHAR: Final = "0-9A-HJKMNP-TV-Za-hjkmnp-tv-z"
#: Python's whitespace (what ``str.strip`` removes), spelt out for every engine.
_WS: Final = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: An id or a unique prefix of one (``keel.projects.idprefix``): anything but one to three id
#: characters alone, which would match too much to be worth a query.
IdOrPrefix = Annotated[
    str,
    StringConstraints(
        pattern=(
            rf"^(?:[{_WS}]*|[\s\S]*[^{_ID_CHAR}{_WS}][\s\S]*|[{_WS}]*[{_ID_CHAR}]+[{_WS}]+[{_ID_CHAR}][\s\S]*"
            rf"|[{_WS}]*[{_ID_CHAR}]{{4,}}[{_WS}]*)$"
        )
    ),
    worded(lambda v: f"id prefix {_shown(v)} is too short: give at least 4 characters"),
]
#: A dataset version's reference (a version's parents).
VersionRef = Annotated[
    str,
    StringConstraints(pattern=r"^dataset_version:[A-Za-z0-9._@/\-]{1,200}$"),
    worded(lambda v: f"parents must be dataset_version:<id> references, got {_shown(v)}"),
]
#: A dataset address ``[project/]name[@selector]``.
_ADDRESS: Final = (
    r"(?:[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}/)?[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}@[A-Za-z0-9_.\-]{1,100}"
)
DatasetRef = Annotated[str, StringConstraints(pattern=rf"^{_ADDRESS}$")]
#: A dataset address as ``keel.datasets.address_syntax`` reads it: ``[project/]name[@selector]``.
DatasetAddress = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[A-Za-z0-9][A-Za-z0-9_.\-]*/)?[A-Za-z0-9][A-Za-z0-9_.\-]*(?:@[A-Za-z0-9_.\-]+)?$"
    ),
    worded(lambda v: f"not a dataset address: {_shown(v)} (write name@v3, name@latest or project/name@v3)"),
]
#: One or more digests (Parquet parts, say).
Digests = Annotated[list[Digest], Len(min_length=1)]
#: What a run may record as an input: an artifact digest, a typed reference or a dataset address.
RunInput = Annotated[
    str,
    StringConstraints(
        pattern=(
            rf"^(?:[0-9a-f]{{64}}|artifact:[0-9a-f]{{64}}|"
            rf"(?:{_KINDS}):[A-Za-z0-9._@/\-]{{1,200}}|{_ADDRESS})$"
        )
    ),
    worded(
        lambda v: (
            f"not a dataset address: {_shown(v)} (write name@v3, name@latest or project/name@v3)"
            if isinstance(v, str) and "@" in v and ":" not in v
            else f"not a reference: {_shown(v)} (a digest, kind:<id>, or a dataset address name@v3)"
        )
    ),
]

# ---- paths ----------------------------------------------------------------------------------

_SEGMENT: Final = r"(?:[^/\\.\x00][^/\\\x00]*|\.[^/\\.\x00][^/\\\x00]*|\.\.[^/\\\x00]+)"
#: A relative POSIX path: ``/``-separated, no ``.``/``..`` segment, no backslash or NUL, at most
#: 500 characters.
ArtifactPath = Annotated[
    str,
    StringConstraints(pattern=rf"^{_SEGMENT}(?:/{_SEGMENT})*$", max_length=500),
    worded(lambda v: f"artifact path {_shown(v)} must be relative, with '/' separators and no '..'"),
]

# ---- people, time -----------------------------------------------------------------------------

#: An e-mail address as Keel checks it: one ``@``, something before it, at most 320 characters.
Email = Annotated[
    str,
    StringConstraints(pattern=r"^[^@]+@[^@]*$", max_length=320),
    worded(lambda v: f"email {_shown(v)} is not an email address"),
]
#: Ten years in seconds, the longest duration Keel takes (``keel.auth.durations``).
MAX_DURATION_S: Final = 10 * 365 * 86_400
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION: Final = (
    "^ *(?:"
    + "|".join(f"{int_up_to(min(999_999, MAX_DURATION_S // s))} *{u}" for u, s in _UNIT_S.items())
    + ") *$"
)
#: A duration such as ``30d``, ``12h`` or ``2w``: longer than zero, at most ten years.
Duration = Annotated[
    str,
    StringConstraints(pattern=_DURATION),
    worded(
        lambda v: (
            f"{_shown(v)} is not a duration; write a number and a unit s, m, h, d or w, "
            "e.g. 30d (more than zero, at most ten years)"
        )
    ),
]
_SINCE_1970: Final = r"^(?:19[7-9][0-9]|[2-9][0-9]{3})-"


def _not_before_1970(value: datetime) -> datetime:
    if value.year < 1970:
        raise ValueError(f"{value.isoformat()} is before 1970")
    return value


#: A moment from 1970 on, in ISO 8601 (the pattern states the year; an offset that moves
#: 1970-01-01 into 1969 is still refused).
Since1970 = Annotated[
    datetime, AfterValidator(_not_before_1970), Field(json_schema_extra={"pattern": _SINCE_1970})
]


#: How long unreferenced objects are kept before garbage collection may remove them.
GraceSeconds = Annotated[float, Ge(0), worded(lambda v: f"grace_s must not be negative, got {_shown(v)}")]
#: How many example rows a dataset diff shows.
DiffExamples = Annotated[int, Ge(0), Le(100), between("examples", 0, 100)]
#: How many edges a lineage walk follows.
LineageDepth = Annotated[int, Ge(1), Le(50), between("depth", 1, 50)]
#: A GPU's energy use (kWh) and an hourly price: finite, from zero to far above any real figure,
#: small enough that a project's sum never overflows (``keel.tracking.values``).
EnergyKwh = Annotated[
    float, Ge(0), Le(1e9), worded(lambda v: f"energy_kwh must be a number from 0 to 1e+09, got {_shown(v)}")
]
HourlyPrice = Annotated[
    float, Ge(0), Le(1e6), worded(lambda v: f"hourly_price must be a number from 0 to 1e+06, got {_shown(v)}")
]
#: How many active versions of each model retention keeps (0 turns retention off).
KeepLast = Annotated[
    int,
    Ge(0),
    Le(10_000),
    worded(lambda v: f"keep_last must be between 1 and 10000 (0 turns retention off), not {_shown(v)}"),
]
#: A share in percent.
Percent = Annotated[
    int,
    Ge(0),
    Le(100),
    worded(lambda v: f"canary_percent is {_shown(v)}; a canary share must be from 0 to 100 (percent)"),
]
#: How a run or a pipeline run may be ended.
EndStatus = Literal["FINISHED", "FAILED", "KILLED"]

# ---- pipelines and monitors -------------------------------------------------------------------

#: A pipeline target: ``/path/to/file.py:NAME`` or ``module:NAME`` (``keel.pipelines.triggers``).
PipelineTarget = Annotated[
    str,
    StringConstraints(pattern=r"^[^\n]+:[A-Za-z_][A-Za-z0-9_]*$"),
    worded(lambda v: f"target {_shown(v)}: write /path/to/file.py:NAME or module:NAME"),
]
#: What fires a trigger: ``data:DATASET``, ``drift:DEPLOYMENT``, ``schedule:CRON`` or ``manual``
#: (whether a cron expression parses, and whether the dataset or deployment exists, are checked).
TriggerEvent = Annotated[
    str,
    StringConstraints(pattern=r"^(?:(?:data|drift):[A-Za-z0-9_.\-/]{1,200}|schedule:[^\n]{1,200}|manual)$"),
    worded(lambda v: f"event {_shown(v)}: write data:DATASET, schedule:'CRON', drift:DEPLOYMENT or manual"),
]
#: How long a trigger waits before firing again: up to a week.
Cooldown = Annotated[
    int,
    Ge(0),
    Le(7 * 24 * 3600),
    worded(lambda v: f"cooldown_s must be between 0 and 604800, not {_shown(v)}"),
]
#: A firing's deduplication key.
DedupKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200),
    worded(lambda v: "dedup_key must be 1 to 200 characters"),
]
#: Where an alert goes: ``log``, ``webhook:<http(s) URL>`` or ``retrain`` (``keel.monitoring.rules``).
AlertSink = Annotated[
    str,
    StringConstraints(pattern=rf"^(?:log|retrain|webhook:https?://[^{_WS}/][\s\S]*)$", max_length=1000),
    worded(lambda v: f"sink {_shown(v)} is not log, webhook:<http(s) URL> or retrain"),
]
#: A relative or absolute tolerance (model parity).
Tolerance = Annotated[float, Ge(0), worded(lambda v: f"rtol and atol must be non-negative, got {_shown(v)}")]
#: How a pipeline run may be ended.
PipelineEndStatus = Literal["FINISHED", "FAILED"]

# ---- KPIs -------------------------------------------------------------------------------------

_KPI_NAME: Final = r"[A-Za-z_][A-Za-z0-9_./\-]*"
#: A finite number as people and ``repr`` write one (``0.04561148526465794``, ``1.5e+300``): at most
#: 20 digits either side of the point and an exponent up to 99, or 307 after a single digit (1e999
#: would read as infinity, which no JSON answer can carry).
_MANTISSA: Final = r"(?:[0-9]{1,20}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"
_NUMBER: Final = (
    rf"-?(?:{_MANTISSA}(?:[eE][+\-]?[0-9]{{1,2}})?|[0-9](?:\.[0-9]{{0,20}})?[eE]\+?(?:[12][0-9]{{2}}|30[0-7])"
    rf"|{_MANTISSA}[eE]-[0-9]{{3}})"
)
#: Not a separator in any of the three engines: no control character, no Unicode space.
_NOT_SPACE: Final = r"[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
_GROUP_OR_SLICE: Final = rf"(?:group={_KPI_NAME}|slice=[A-Za-z0-9_.\-]+:{_NOT_SPACE}+)"
_STAGE: Final = "stage=(?:offline|online)"
KPI_PATTERN: Final = (
    rf"^ *[A-Za-z_][A-Za-z0-9_./\-]{{0,249}} *(?:>=|<=|==|>|<) *{_NUMBER}"
    rf"(?: +{_GROUP_OR_SLICE}(?: +{_STAGE})?| +{_STAGE}(?: +{_GROUP_OR_SLICE})?)? *$"
)


def _kpi_refusal(value: Any) -> str:
    """The parser's own words when it refuses the text too (``unknown comparator '>>'``)."""
    from keel.core.errors import InvalidInput
    from keel.core.kpi import parse_kpi

    if isinstance(value, str):
        try:
            parse_kpi(value)
        except InvalidInput as exc:
            hint = getattr(exc, "hint", None)
            return f"{exc} ({hint})" if hint else str(exc)
    return (
        f"malformed KPI {_shown(value)}: write '<metric> <comparator> <number> "
        "[group=..|slice=col:value] [stage=offline|online]'"
    )


#: A KPI written as text: ``<metric> <comparator> <number> [group=<col> | slice=<col>:<value>]
#: [stage=offline|online]``; the pattern is the whole grammar (``keel.core.kpi.parse_kpi``).
KpiText = Annotated[
    str,
    StringConstraints(pattern=KPI_PATTERN),
    Len(1, 1000),
    worded(_kpi_refusal),
]


def _kpi_form(value: Any) -> str:
    return "text" if isinstance(value, str) else "object"


#: A KPI as an object or as text; text must follow the grammar above and never reaches the
#: object's own parser unchecked.
KpiSpec = Annotated[
    Union[Annotated[KPI, Tag("object")], Annotated[KpiText, Tag("text")]],  # noqa: UP007 - tagged members
    Discriminator(_kpi_form),
]
