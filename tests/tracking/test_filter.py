"""The filter language: what parses to what, and errors that point at the mistake."""

from __future__ import annotations

import pytest

from keel.core.errors import InvalidInput
from keel.tracking.filter import Bool, Compare, Field, parse_filter, parse_order_by


def test_precedence_parentheses_and_keys() -> None:
    tree = parse_filter(
        "metrics.auc > 0.9 and (params.lr = 0.1 or tags.team like 'r%') or attr.status = 'FAILED'"
    )
    assert isinstance(tree, Bool) and tree.op == "or"
    left = tree.parts[0]
    assert isinstance(left, Bool) and left.op == "and"
    assert left.parts[0] == Compare(Field("metrics", "auc", 0), ">", (0.9,))
    nested = left.parts[1]
    assert isinstance(nested, Bool) and nested.op == "or"
    assert nested.parts[1] == Compare(Field("tags", "team", 42), "like", ("r%",))


def test_backticks_dotted_keys_in_lists_and_quotes() -> None:
    tree = parse_filter("metrics.`system/cpu percent` <= 80")
    assert isinstance(tree, Compare) and tree.field.key == "system/cpu percent"
    tree = parse_filter("metrics.val.auc >= 1e-3")
    assert isinstance(tree, Compare) and tree.field.key == "val.auc" and tree.values == (0.001,)
    tree = parse_filter("params.opt not in ('adam', \"sgd\", 'it''s')")
    assert isinstance(tree, Compare) and tree.op == "not in" and tree.values == ("adam", "sgd", "it's")
    assert parse_filter("   ") is None


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        ("metrics.auc >", 14, "a number or a quoted string"),
        ("metrics.auc 0.9", 13, "a comparison"),
        ("(metrics.auc > 1", 17, "')'"),
        ("metrics.auc > 1 params.x = 2", 17, "'and', 'or'"),
        ("metrics.auc > 1 & x", 17, "unexpected character"),
        ("foo.auc > 1", 1, "unknown field"),
        ("metrics. > 1", 10, "a key"),
        ("params.x not = 1", 14, "'in' or 'like'"),
        ("tags.t like 3", 13, "quoted pattern"),
    ],
)
def test_syntax_errors_point_at_the_position(text: str, position: int, says: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_filter(text)
    assert f"position {position}:" in info.value.message and says in info.value.message
    assert info.value.details["position"] == position
    caret_line = info.value.message.splitlines()[-1]
    assert caret_line.index("^") - 2 == position - 1


def test_order_by() -> None:
    keys = parse_order_by(["metrics.auc desc", "attributes.start_time", "params.`my lr` ASC"])
    assert [(k.field.entity, k.field.key, k.descending) for k in keys] == [
        ("metrics", "auc", True),
        ("attributes", "start_time", False),
        ("params", "my lr", False),
    ]
    with pytest.raises(InvalidInput, match="'asc', 'desc'"):
        parse_order_by(["metrics.auc downwards"])
