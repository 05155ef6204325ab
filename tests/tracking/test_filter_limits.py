"""Search cost is bounded: limits on comparisons, nesting and order keys, and SQL that grows linearly.

Issue 11.2: a viewer's filter of N and-joined terms took 1.1 s at 100 terms, 24 s at
200 and kept PostgreSQL planning for minutes at 2,000; 500 nested parentheses were
a 500. The limits are settings (``search_max_*``); the compiled SQL holds one
uncorrelated SELECT per distinct row a group reads (no EXISTS per term), so its
size, and the database's work, grows linearly with the filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.tracking.filter import DEPTH_CEILING, Limits, parse_filter, parse_order_by
from keel.tracking.filter_sql import compile_filter


def _terms(n: int, keys: int | None = None) -> str:
    return " and ".join(f"metrics.m{i % keys if keys else i} >= {i}" for i in range(n))


def test_too_many_comparisons_are_refused_at_the_first_one_past_the_limit() -> None:
    parse_filter(_terms(200))  # the default limit is 200
    text = _terms(201)
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    message = info.value.message
    assert "more than 200 comparisons" in message and "search_max_terms" in message
    assert info.value.details["position"] == text.index("metrics.m200 >= 200") + len("metrics.m200 >= ") + 1
    with pytest.raises(InvalidInput, match="more than 3 comparisons"):
        parse_filter("params.a in (1, 2) and params.b in (3, 4)", Limits(terms=3))  # each listed value counts


def test_a_huge_filter_is_refused_without_reading_it_all() -> None:
    """Tokens are read lazily: the error is the limit, not the mistake far past it."""
    text = _terms(5) + " and " + "?" * 1_000_000
    with pytest.raises(InvalidInput, match="more than 3 comparisons"):
        parse_filter(text, Limits(terms=3))


def test_deep_parentheses_are_refused_not_a_recursion_error() -> None:
    parse_filter("(" * 20 + "metrics.a > 1" + ")" * 20)
    text = "(" * 500 + "metrics.a > 1" + ")" * 500
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    assert "deeper than 20" in info.value.message and "search_max_depth" in info.value.message
    assert info.value.details["position"] == 21  # the caret is under the 21st '('
    with pytest.raises(InvalidInput, match=f"deeper than {DEPTH_CEILING}"):
        parse_filter(text, Limits(depth=100_000))  # whatever the setting, the stack is safe


def test_order_keys_are_limited() -> None:
    parse_order_by([f"metrics.m{i}" for i in range(8)])
    with pytest.raises(InvalidInput, match="order_by has 9 keys; the limit is 8"):
        parse_order_by([f"metrics.m{i}" for i in range(9)])


def test_bad_characters_point_at_themselves() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter("tags.t = 'a\x00b'")
    assert "NUL" in info.value.message and info.value.details["position"] == 12
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        parse_filter("tags.t = '\ud800'")


def _sql(text: str, dialect: str = "sqlite") -> str:
    tree = parse_filter(text, Limits(terms=10_000))
    assert tree is not None
    compiled = compile_filter(tree, text, "p1", dialect)
    return str(compiled.compile(dialect=(sqlite if dialect == "sqlite" else postgresql).dialect()))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_compiled_sql_grows_linearly_and_is_never_correlated(dialect: str) -> None:
    sizes = {n: len(_sql(_terms(n), dialect)) for n in (50, 100, 200, 400)}
    per_term = (sizes[400] - sizes[200]) / 200
    assert (sizes[200] - sizes[100]) / 100 == pytest.approx(per_term, rel=0.1)
    assert (sizes[100] - sizes[50]) / 50 == pytest.approx(per_term, rel=0.1)
    sql = _sql(_terms(400), dialect)
    assert "EXISTS" not in sql and sql.count("SELECT") < 1.1 * 400
    assert max(len(m) for m in re.findall(r"\(+", sql)) < 10  # compounds nest in chunks, not per term


def test_comparisons_of_one_row_share_one_select() -> None:
    """One SELECT per distinct key and group, however many comparisons read it."""
    assert _sql(_terms(200, keys=1)).count("SELECT") == 1
    assert _sql(_terms(200, keys=5)).count("SELECT") == 5 + 1  # + the SELECT around the INTERSECT
    mixed = "attributes.status = 'A' and attributes.name != 'b' and (params.x = 1 or params.x = 2)"
    assert _sql(mixed).count("SELECT") == 2 + 1  # the run's columns once, params.x once


def test_limits_come_from_the_settings(make_keel: Callable[..., Client]) -> None:
    client = make_keel(search_max_terms=3, search_max_depth=2, search_max_order_keys=1)
    client.projects.create(name="p")
    assert client.runs.search(project="p", filter=_terms(3)).items == []
    with pytest.raises(InvalidInput, match="more than 3 comparisons"):
        client.runs.search(project="p", filter=_terms(4))
    with pytest.raises(InvalidInput, match="deeper than 2"):
        client.runs.search(project="p", filter="(((metrics.a > 1)))")
    with pytest.raises(InvalidInput, match="limit is 1"):
        client.runs.search(project="p", order_by=["metrics.a", "metrics.b"])


def test_a_server_answers_422_naming_the_limit(keel_client: Client, unique: Callable[[str], str]) -> None:
    """On SQLite, PostgreSQL and through a real server: a 4xx (InvalidInput), never a 500."""
    project = unique("lim")
    keel_client.projects.create(name=project)
    run = keel_client.runs.create(project=project, name="one")
    keel_client.runs.log_batch(run_id=run.id, metrics=[(f"m{i}", float(i), 0, 1) for i in range(200)])
    found = keel_client.runs.search(project=project, filter=_terms(200))
    assert [r.name for r in found.items] == ["one"]
    for text, says in [
        (_terms(2000), "search_max_terms"),
        ("(" * 500 + "metrics.a > 1" + ")" * 500, "search_max_depth"),
    ]:
        with pytest.raises(InvalidInput, match=says):
            keel_client.runs.search(project=project, filter=text)
