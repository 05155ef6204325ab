"""Search fields: every documented field with every operator it takes, and SQL = a plain Python evaluation.

``oracle`` below evaluates a parsed filter over the runs as the SDK reads them
back, by the rule the docs state: a run lacking the field (no such metric,
param or tag, a NaN metric, an empty attribute) matches no comparison, ``!=``
and ``not in`` included; numbers compare as numbers, text by code point,
``like`` is case sensitive and ``ilike`` is not. The same filters run on
SQLite and, when ``KEEL_TEST_POSTGRES`` is set, on PostgreSQL; Hypothesis
generates more of them, and garbage besides, which must never be an internal error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.client import Client, connect
from keel.core.errors import InvalidInput
from keel.core.settings import load_settings
from keel.testing.fixtures import new_workspace
from keel.tracking.filter import Bool, Node, parse_filter
from keel.tracking.schemas import RunRecord
from keel.tracking.values import encode_param

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAN, INF = float("nan"), float("inf")
#: (name, params, tags, metrics, seconds after T0 it started, (seconds it ran, status) or None, price, energy)
RUNS: list[tuple[str, dict[str, Any], dict[str, str], dict[str, float], int, Any, Any, Any]] = [
    (
        "r0",
        {"depth": 2, "lr": 0.1, "opt": "adam", "early": True, "layers": [64, 32]},
        {"team": "risk", "my tag": "it's"},
        {"acc": 0.5, "loss": 1.0, "val.auc": 0.7, "system/cpu": 10.0},
        0,
        (60, "FINISHED"),
        3.6,
        0.5,
    ),
    ("r1", {"depth": 4, "lr": 0.01, "opt": "sgd", "early": False}, {"team": "Risk"}, {"acc": 0.49, "loss": NAN}, 10, (120, "FAILED"), None, None),
    ("r2", {"depth": 6, "lr": INF, "opt": "ADAM", "layers": {"a": 1}}, {"team": "r%_x"}, {"acc": 0.9, "loss": INF}, 20, None, None, None),
    ("r3", {"depth": 6, "opt": "a\\b"}, {"team": "€uro", "my tag": ""}, {"acc": 0.9, "val.auc": 0.7}, 30, (30, "KILLED"), 1.0, 0.0),
    ("r4", {}, {}, {}, 40, None, None, None),
    ("r5", {"depth": -1, "lr": 0.5, "opt": ""}, {"team": ""}, {"acc": -0.25, "system/cpu": 99.5}, 50, (1, "FINISHED"), None, None),
    ("r6", {"depth": 10**18, "opt": "adam "}, {"team": "risk"}, {"acc": 1.0, "loss": 0.0}, 60, (3600, "FINISHED"), 2.0, 1.5),
    ("r7", {"opt": 'quote"d', "early": True}, {"team": "RISK"}, {"acc": NAN}, 70, (5, "FINISHED"), None, None),
]  # fmt: skip

# -- the data, once per backend ------------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Client, str, list[RunRecord]]:
    """A project holding :data:`RUNS` (r5 a child of r0), and the runs as the SDK reads them back."""
    overrides = {"run_heartbeat_timeout_s": 0}  # nothing here may be reaped as silent
    if request.param == "sqlite":
        client = connect(settings=new_workspace(tmp_path_factory.mktemp("filter"), **overrides))
    else:
        url = request.getfixturevalue("postgres_url")
        settings_ = load_settings({"db_url": url, **overrides}, env={}, cwd=tmp_path_factory.mktemp("pg"))
        client = connect(settings=settings_)
    project = f"filter-{request.param}"
    client.projects.create(name=project, kpis=["acc >= 0.5"])
    ids: dict[str, str] = {}
    for name, params, tags, metrics, start, end, price, energy in RUNS:
        run = client.runs.create(
            project=project,
            name=name,
            params=params,
            tags=tags,
            start_time=T0 + timedelta(seconds=start),
            hourly_price=price,
            parent_id=ids["r0"] if name == "r5" else None,
        )
        ids[name] = run.id
        if metrics:
            client.runs.log_batch(run_id=run.id, metrics=[(k, v, 0, 1) for k, v in metrics.items()])
        if end is not None:
            seconds, status = end
            client.runs.end(
                run_id=run.id,
                status=status,
                energy_kwh=energy,
                end_time=T0 + timedelta(seconds=start + seconds),
            )
    records = [client.runs.get(run_id=i) for i in ids.values()]
    return client, project, records


def sql_names(client: Client, project: str, text: str) -> list[str]:
    page = client.runs.search(project=project, filter=text, order_by=["attributes.name"], limit=1000)
    return [r.name for r in page.items]


# -- the oracle ----------------------------------------------------------------------------------

TEXT_ATTRIBUTES = {"id": "id", "run_id": "id", "name": "name", "run_name": "name", "status": "status"}
TEXT_ATTRIBUTES |= {"user": "user", "parent_id": "parent_id"}
NUMBER_ATTRIBUTES = {"duration", "cost", "energy_kwh"}
TIME_ATTRIBUTES = {"start_time", "end_time"}


def like(pattern: str, value: str, *, fold: bool) -> bool:
    """SQL LIKE without an escape character: % any run of characters, _ exactly one."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE | re.ASCII if fold else 0)
    return re.fullmatch(regex, value, flags) is not None


def compare(value: Any, op: str, values: Sequence[Any]) -> bool:
    if op == "in":
        return value in values
    if op == "not in":
        return value not in values
    if op in ("like", "ilike", "not like", "not ilike"):
        matched = like(values[0], value, fold="ilike" in op)
        return not matched if op.startswith("not") else matched
    v = values[0]
    return bool(
        {
            "=": lambda: value == v,
            "!=": lambda: value != v,
            "<": lambda: value < v,
            "<=": lambda: value <= v,
            ">": lambda: value > v,
            ">=": lambda: value >= v,
        }[op]()
    )


def as_time(value: Any) -> datetime:
    if isinstance(value, float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_bool(value: Any) -> bool:
    return value is True or value == 1.0 or (isinstance(value, str) and value.lower() == "true")


def holds(node: Node, run: RunRecord) -> bool:
    """Does ``run`` match ``node``? Plain Python, no SQL."""
    if isinstance(node, Bool):
        results = [holds(part, run) for part in node.parts]
        return all(results) if node.op == "and" else any(results)
    field, op, values = node.field, node.op, list(node.values)
    if field.entity == "metrics":
        metric = run.metrics.get(field.key)
        return metric is not None and not math.isnan(metric) and compare(metric, op, values)
    if field.entity == "tags":
        tag = run.tags.get(field.key)
        return tag is not None and compare(tag, op, values)
    if field.entity == "params":
        if field.key not in run.params:
            return False
        kind, text, number = encode_param(field.key, run.params[field.key])
        if "like" in op:
            return compare(text, op, values)
        if isinstance(values[0], bool):
            return kind == "bool" and compare(text, op, ["true" if v else "false" for v in values])
        if isinstance(values[0], float):
            return number is not None and compare(number, op, values)
        return kind in ("str", "bool", "json") and compare(text, op, values)
    name = field.key
    if name == "kpi_passed":
        return run.kpi_passed is not None and compare(run.kpi_passed, op, [as_bool(v) for v in values])
    if name in TIME_ATTRIBUTES:
        moment = getattr(run, name)
        return moment is not None and compare(moment, op, [as_time(v) for v in values])
    attribute = getattr(run, TEXT_ATTRIBUTES.get(name, name))
    return attribute is not None and compare(attribute, op, values)


def oracle(records: list[RunRecord], text: str) -> list[str]:
    tree = parse_filter(text)
    assert tree is not None
    return sorted(r.name for r in records if holds(tree, r))


# -- every documented field with every operator it takes -----------------------------------------

ORDER = ["=", "!=", "<", "<=", ">", ">=", "in", "not in"]
LIKES = ["like", "not like", "ilike", "not ilike"]
#: field -> (operators it takes, a value for single-value operators, values for 'in').
FIELDS: dict[str, tuple[list[str], str, str]] = {
    "metrics.acc": (ORDER, "0.5", "(0.5, 0.9)"),
    "metrics.`system/cpu`": (ORDER, "10", "(10, 99.5)"),
    "metrics.val.auc": (ORDER, "0.7", "(0.7)"),
    "params.depth": (ORDER, "6", "(2, 6)"),
    "params.lr": (ORDER, "0.1", "(0.1, 0.5)"),
    "params.opt": (ORDER + LIKES, "'adam'", "('adam', 'sgd', '')"),
    "params.early": (["=", "!=", "in", "not in"], "true", "(true)"),
    "tags.team": (ORDER + LIKES, "'risk'", "('risk', '')"),
    "tags.`my tag`": (ORDER + LIKES, "''", "('', 'x')"),
    "attributes.status": (ORDER + LIKES, "'FINISHED'", "('FINISHED', 'KILLED')"),
    "attributes.name": (ORDER + LIKES, "'r3'", "('r1', 'r3')"),
    "attributes.run_name": (ORDER, "'r3'", "('r1', 'r3')"),
    "attributes.user": (ORDER + LIKES, "'local'", "('local', 'x')"),
    "attributes.start_time": (ORDER, str((T0 + timedelta(seconds=30)).timestamp() * 1000), "(1767225600000)"),
    "attributes.end_time": (
        ORDER,
        f"'{(T0 + timedelta(seconds=60)).isoformat()}'",
        "('2026-01-01T00:01:00')",
    ),
    "attributes.duration": (ORDER, "60", "(60, 1)"),
    "attributes.cost": (ORDER, "0.06", "(0.06, 2)"),
    "attributes.energy_kwh": (ORDER, "0.5", "(0, 1.5)"),
    "attributes.kpi_passed": (["=", "!=", "in", "not in"], "1", "(true)"),
    "attributes.parent_id": (["=", "!=", "in", "not in", "like"], "'x'", "('x')"),
    "attributes.id": (["=", "!=", "in", "not in", "<", ">="], "'0'", "('0')"),
    "attributes.run_id": (["!=", "like"], "'0'", "('0')"),
}
CASES = [
    f"{field} {op} {values if 'in' in op.split() else value}"
    for field, (ops, value, values) in FIELDS.items()
    for op in ops
]


@pytest.mark.parametrize("text", CASES)
def test_every_documented_field_with_every_operator(
    seeded: tuple[Client, str, list[RunRecord]], text: str
) -> None:
    client, project, records = seeded
    assert sql_names(client, project, text) == oracle(records, text)


def test_like_patterns_case_and_wildcards(seeded: tuple[Client, str, list[RunRecord]]) -> None:
    client, project, records = seeded
    for text in [
        "tags.team like 'r%'",  # case sensitive on SQLite too: not Risk, RISK
        "tags.team ilike 'r%'",
        "tags.team not like 'r%'",  # the negation matters: a mutant that drops it fails here
        "tags.team not ilike 'RISK'",
        "tags.team like 'r_sk'",
        "tags.team like 'r\\%\\_x'",  # backslash is no escape: this matches nothing
        "tags.team like '%\\%%'",
        "params.opt like 'a\\\\b'",  # the pattern a\b (written a\\b) matches the value a\b
        "params.opt like '%'",  # every param of any kind has text
        "params.depth like '6'",
    ]:
        assert sql_names(client, project, text) == oracle(records, text), text
    assert sql_names(client, project, "tags.team like 'r%'") == ["r0", "r2", "r6"]
    assert sql_names(client, project, "tags.team not like 'r%'") == ["r1", "r3", "r5", "r7"]


def test_kpi_passed_takes_one_zero_true_false(seeded: tuple[Client, str, list[RunRecord]]) -> None:
    """Issue 10.6: these exited 3 with "ArgumentError: Only '=', '!=', 'is_()' ...", and ``= true`` was refused."""
    client, project, _ = seeded
    passed, missed = ["r0", "r3", "r6"], ["r1", "r5", "r7"]  # r2 and r4 run still: no verdict
    for text in ["= 1", "= 'true'", "= true", "== TRUE", "!= 0", "!= false", "in (1)", "not in (false)"]:
        assert sql_names(client, project, f"attributes.kpi_passed {text}") == passed, text
    for text in ["= 0", "= 'false'", "= false", "!= 1", "<> true", "in ('false')", "not in (true)"]:
        assert sql_names(client, project, f"attributes.kpi_passed {text}") == missed, text
    assert sql_names(client, project, "attributes.kpi_passed in (0, 1)") == sorted(passed + missed)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("attributes.kpi_passed < 1", "compare it with =, !=, in or not in"),
        ("attributes.kpi_passed = 2", "true or false (1 or 0), not 2.0"),
        ("attributes.kpi_passed = 'yes'", "not 'yes'"),
        ("metrics.acc like '1%'", "'like' needs text"),
        ("metrics.acc = true", "compare it with a number"),
        ("attributes.start_time like '2026%'", "'like' needs text"),
        ("attributes.start_time > 99999999999999999999", "out of the range of times"),
        ("attributes.start_time > 'yesterday'", "Unix milliseconds or an ISO time"),
        ("attributes.duration = 'long'", "compare it with a number"),
        ("attributes.status = 1", "compare it with a quoted string"),
        ("tags.team = 1", "compare it with a quoted string"),
        ("params.early < true", "true and false compare with"),
        ("params.depth in (1, 'a')", "not a mix"),
        ("params.depth like 1", "quoted pattern"),
        ("attributes.colour = 'red'", "unknown attribute"),
    ],
)
def test_refused_comparisons_point_at_the_field(
    seeded: tuple[Client, str, list[RunRecord]], text: str, says: str
) -> None:
    client, project, _ = seeded
    with pytest.raises(InvalidInput) as info:
        sql_names(client, project, text)
    assert says in info.value.message and "^" in info.value.message.splitlines()[-1]


# -- generated filters ---------------------------------------------------------------------------


def _pool(records: list[RunRecord]) -> dict[str, list[str]]:
    """Values worth comparing with, per field, rendered as filter text: the data's own, its neighbours."""

    def number(x: float) -> str:
        return "1e999" if x == INF else "-1e999" if x == -INF else repr(float(x))

    def numbers(xs: list[float]) -> list[str]:
        finite = {x for x in xs if not math.isnan(x)}
        near = {math.nextafter(x, INF) for x in finite} | {math.nextafter(x, -INF) for x in finite}
        return sorted({number(x) for x in finite | near | {0.0, -1.0, INF, -INF}})

    def text(xs: list[str]) -> list[str]:
        extra = ["r%", "%isk", "_isk", "R%", "%\\\\%", "%", "", "a%", "%'%", "€%", "adam", "zz"]
        return [quote(s) for s in sorted(set(xs) | set(extra))]

    metric_values = [v for r in records for v in r.metrics.values()]
    params = [encode_param(k, v) for r in records for k, v in r.params.items()]
    times = [t for r in records for t in (r.start_time, r.end_time) if t is not None]
    return {
        "number": numbers(metric_values + [n for _, _, n in params if n is not None]),
        "attr_number": numbers(
            [x for r in records for x in (r.duration, r.cost, r.energy_kwh) if x is not None]
        ),
        "time": [number(t.timestamp() * 1000 + d) for t in times for d in (-1, 0, 1)]
        + [quote(t.isoformat()) for t in times],
        "text": text([s for r in records for s in r.tags.values()] + [t for _, t, _ in params]),
        "attr_text": text(
            [r.name for r in records] + [r.status for r in records] + [r.user for r in records]
        ),
        "bool": ["true", "false", "TRUE"],
        "kpi": ["1", "0", "true", "false", "'true'", "'FALSE'"],
    }


def quote(value: str) -> str:
    if '"' in value or "\\" in value:
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
    return '"' + value + '"' if "'" in value else "'" + value + "'"


#: field -> (kind of its values in the pool, operators it takes).
GENERATED: dict[str, tuple[str, list[str]]] = {
    "metrics.acc": ("number", ORDER),
    "metric.loss": ("number", ORDER),
    "metrics.`val.auc`": ("number", ORDER),
    "metrics.system/cpu": ("number", ORDER),
    "params.depth": ("number", [*ORDER, "like", "not like"]),
    "param.lr": ("number", ORDER),
    "params.opt": ("text", ORDER + LIKES),
    "params.layers": ("text", ORDER + LIKES),
    "params.early": ("bool", ["=", "!=", "in", "not in"]),
    "tags.team": ("text", ORDER + LIKES),
    "tag.`my tag`": ("text", ORDER + LIKES),
    "attributes.name": ("attr_text", ORDER + LIKES),
    "attr.status": ("attr_text", ORDER + LIKES),
    "run.user": ("attr_text", ["=", "!=", "like"]),
    "attributes.start_time": ("time", ORDER),
    "attributes.end_time": ("time", ORDER),
    "attributes.duration": ("attr_number", ORDER),
    "attributes.cost": ("attr_number", ORDER),
    "attributes.energy_kwh": ("attr_number", ORDER),
    "attributes.kpi_passed": ("kpi", ["=", "!=", "in", "not in"]),
}
SPELLING = {"=": ["=", "=="], "!=": ["!=", "<>"], "in": ["in", "IN"], "not in": ["not in", "NOT IN"]}


@st.composite
def comparisons(draw: st.DrawFn, pool: dict[str, list[str]]) -> str:
    field = draw(st.sampled_from(sorted(GENERATED)))
    kind, ops = GENERATED[field]
    op = draw(st.sampled_from(ops))
    values = pool["text"] if "like" in op and kind == "number" else pool[kind]
    spelled = draw(st.sampled_from(SPELLING.get(op, [op, op.upper()])))
    if op in ("in", "not in"):
        chosen = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
        return f"{field} {spelled} ({', '.join(chosen)})"
    value = draw(st.sampled_from([v for v in values if not v.startswith("1e9")] if "like" in op else values))
    if "like" in op and not value.startswith(("'", '"')):
        value = quote(value)
    return f"{field} {spelled} {value}"


def filters(pool: dict[str, list[str]]) -> st.SearchStrategy[str]:
    def combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        joined = st.tuples(
            st.sampled_from([" and ", " or ", " AND ", " Or "]), st.lists(children, min_size=2, max_size=4)
        )
        return joined.map(lambda pair: "(" + pair[0].join(pair[1]) + ")")

    return st.recursive(comparisons(pool), combine, max_leaves=8)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_filters_match_python(
    seeded: tuple[Client, str, list[RunRecord]], data: st.DataObject
) -> None:
    client, project, records = seeded
    text = data.draw(filters(_pool(records)))
    assert sql_names(client, project, text) == oracle(records, text), text


PIECES = [
    "metrics.acc", "params.opt", "tags.team", "attributes.start_time", "attributes.kpi_passed", "attr.x",
    " and ", " or ", " not ", " in ", " like ", "(", ")", ",", "=", "<", ">=", "!=", "'", '"', "`",
    "0.5", "-1e999", "99999999999999999999", "'adam'", "true", "\x00", "\ud800", "é", ".", "\\",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=14))
def test_no_filter_is_an_internal_error(
    seeded: tuple[Client, str, list[RunRecord]], pieces: list[str]
) -> None:
    client, project, _ = seeded
    text = "".join(pieces)
    try:
        client.runs.search(project=project, filter=text)
    except InvalidInput as exc:
        assert "filter" in exc.message, exc.message  # names what was wrong; never an internal error
