"""Filter errors, word for word: the headline, the filter quoted and the caret under the mistake."""

from __future__ import annotations

import pytest

from keel.core.errors import InvalidInput
from keel.tracking.filter import parse_filter, parse_order_by


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc >", "filter error at position 14: expected a number or a quoted string (or true, false), found the end of the filter\n  metrics.auc >\n               ^"),
        ("metrics.auc > x", "filter error at position 15: expected a number or a quoted string (or true, false), found 'x'\n  metrics.auc > x\n                ^"),
        ("(metrics.a = 1", "filter error at position 15: expected ')', found the end of the filter\n  (metrics.a = 1\n                ^"),
        ("metrics.a = 1 x", "filter error at position 15: expected 'and', 'or' or the end of the filter, found 'x'\n  metrics.a = 1 x\n                ^"),
        ("bogus.a = 1", "filter error at position 1: unknown field 'bogus': use metrics., params., tags. or attributes.\n  bogus.a = 1\n  ^"),
        ("metrics.a ~ 1", "filter error at position 11: unexpected character '~'\n  metrics.a ~ 1\n            ^"),
        ("tags.t not = 'a'", "filter error at position 12: expected 'in' or 'like' after 'not', found '='\n  tags.t not = 'a'\n             ^"),
        ("tags.t in 'a'", "filter error at position 11: expected '(' after 'in', found \"'a'\"\n  tags.t in 'a'\n            ^"),
        ("tags.t like 1", "filter error at position 13: expected a quoted pattern after 'like', found '1'\n  tags.t like 1\n              ^"),
        ("metrics.`` = 1", "filter error at position 9: empty key\n  metrics.`` = 1\n          ^"),
    ],
)  # fmt: skip
def test_messages_word_for_word(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    assert info.value.message == message
    caret = message.splitlines()[-1].index("^")
    assert info.value.details == {"position": caret - 2 + 1}  # two spaces of indent; positions count from 1


def test_order_by_messages() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_order_by(["metrics.auc sideways"])
    assert info.value.message.startswith(
        "filter error at position 13: expected 'asc', 'desc' or the end, found 'sideways'"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("tags.t = 'it''s'", "it's"),
        ("tags.t = 'it\\'s'", "it's"),
        ('tags.t = "say \\"hi\\""', 'say "hi"'),
        ("tags.t = 'a\\\\b'", "a\\b"),
        ("tags.t = 'a\\%'", "a%"),
    ],
)
def test_quoted_values_unescape(text: str, value: str) -> None:
    tree = parse_filter(text)
    assert tree is not None and tree.values == (value,)  # type: ignore[union-attr]


def test_true_and_false_are_values() -> None:
    assert parse_filter("params.b = true").values == (True,)  # type: ignore[union-attr]
    assert parse_filter("params.b != FALSE").values == (False,)  # type: ignore[union-attr]


def test_limit_errors_quote_the_filter_and_name_the_field() -> None:
    from keel.tracking.filter import Limits

    text = "metrics.a > 1 and metrics.b > 2"
    with pytest.raises(InvalidInput) as info:
        parse_filter(text, Limits(terms=1))
    assert info.value.message.splitlines()[1:] == ["  " + text, "  " + " " * text.index("2") + "^"]
    with pytest.raises(InvalidInput) as info:
        parse_order_by(["metrics.a", "metrics.b"], Limits(order_keys=1))
    assert info.value.details == {"field": "order_by"}


def test_order_by_refuses_words_after_the_direction() -> None:
    with pytest.raises(InvalidInput, match="found 'junk'"):
        parse_order_by(["metrics.a desc junk"])


def test_a_stray_closing_parenthesis_is_not_an_opening_one() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter("metrics.a = 1 and )")
    assert info.value.message.splitlines()[0] == (
        "filter error at position 19: expected a field such as metrics.auc, params.lr, tags.team or "
        "attributes.status, found ')'"
    )


def test_depth_errors_quote_the_filter() -> None:
    from keel.tracking.filter import Limits

    text = "((metrics.a = 1))"
    with pytest.raises(InvalidInput) as info:
        parse_filter(text, Limits(depth=1))
    assert info.value.message.splitlines()[1:] == ["  " + text, "   ^"]


def test_negated_operators_keep_their_negation() -> None:
    """Issue 10.13: a mutant dropping the negation of ``not like`` survived; here each form is pinned."""
    for text, op in [
        ("tags.t not like 'a%'", "not like"),
        ("tags.t NOT ILIKE 'a%'", "not ilike"),
        ("tags.t not in ('a')", "not in"),
        ("tags.t like 'a%'", "like"),
        ("tags.t in ('a')", "in"),
    ]:
        tree = parse_filter(text)
        assert tree is not None and (str(tree.field), tree.op) == ("tags.t", op)  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="expected ',' or '\\)', found \"'b'\""):
        parse_filter("tags.t in ('a' 'b')")


def test_depth_counts_nesting_not_groups() -> None:
    from keel.tracking.filter import Limits

    parse_filter("(metrics.a = 1) and (metrics.b = 1) or ((metrics.c = 1))", Limits(depth=2))


def test_a_closing_parenthesis_must_be_one() -> None:
    with pytest.raises(InvalidInput, match="expected '\\)', found ','"):
        parse_filter("(metrics.a = 1, metrics.b = 2)")
