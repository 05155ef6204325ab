"""Filter details the mutation run found untested (issue 10.13): the == and <> aliases, NUL and
invalid-UTF-8 refusals by position."""

from __future__ import annotations

import pytest

from keel.core.errors import InvalidInput
from keel.tracking.filter import parse_filter


def test_double_equals_and_angle_brackets_are_aliases() -> None:
    assert parse_filter("metrics.a == 1") == parse_filter("metrics.a = 1")
    assert parse_filter("tags.t <> 'x'") == parse_filter("tags.t != 'x'")
    assert parse_filter("tags.t <> 'x'") != parse_filter("tags.t = 'x'")


@pytest.mark.parametrize(("text", "position"), [("\x00metrics.a = 1", 1), ("metrics.a = 1\x00\x00", 14)])
def test_a_nul_is_refused_at_the_first_one(text: str, position: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert caught.value.message.startswith(
        f"filter error at position {position}: NUL characters are not allowed in a filter\n"
    )


def test_text_that_is_not_utf8_is_refused_naming_the_character() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter("tags.t = '\ud800'")
    assert caught.value.message.startswith(
        "filter error at position 11: character '\\ud800' is not valid UTF-8\n"
    )


def test_a_missing_comparison_names_every_comparison() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter("metrics.a 1")
    assert caught.value.message.startswith(
        "filter error at position 11: expected a comparison (=, !=, <, <=, >, >=, in, like), found '1'\n"
    )
