"""Each shared constraint states exactly what the capability's own check accepts.

A pattern the spec states must never refuse what the capability accepts and
never let through what it refuses: Hypothesis draws strings from each pattern
(as a fuzzer reading the spec would) and the capability's own parser must take
them; and every type keeps the capability's wording when it refuses.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from keel.artifacts.digest import check_digest
from keel.auth.durations import parse_duration
from keel.core import constraints as c
from keel.core.errors import InvalidInput
from keel.core.kpi import parse_kpi
from keel.core.refs import parse_ref
from keel.projects.idprefix import MIN_PREFIX, could_be_prefix
from keel.tracking.artifact_ops import clean_path
from keel.tracking.values import check_key


def _pattern(tp: Any) -> str:
    return str(TypeAdapter(tp).json_schema()["pattern"])


def _refusal(tp: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as info:
        TypeAdapter(tp).validate_python(value)
    return str(info.value.errors()[0]["msg"])


@pytest.mark.parametrize("high", [1, 9, 10, 11, 99, 100, 521, 3650, 87600, 999_999])
def test_int_up_to_matches_exactly_one_to_high(high: int) -> None:
    pattern = re.compile(f"^{c.int_up_to(high)}$")
    probes = set(range(0, min(high, 2000) + 2)) | {high - 1, high, high + 1, high * 10}
    for n in probes:
        assert bool(pattern.match(str(n))) == (1 <= n <= high), n
    assert not pattern.match("01")


def _draws(tp: Any) -> st.SearchStrategy[str]:
    return st.from_regex(_pattern(tp), fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(text=_draws(c.KpiText))
def test_every_kpi_text_the_pattern_allows_parses(text: str) -> None:
    if len(text) <= 1000:
        TypeAdapter(c.KpiText).validate_python(text)  # the server's regex engine agrees
        assert math.isfinite(parse_kpi(text).threshold)


@settings(max_examples=200, deadline=None)
@given(text=_draws(c.Duration))
def test_every_duration_the_pattern_allows_parses(text: str) -> None:
    TypeAdapter(c.Duration).validate_python(text)
    assert parse_duration(text).total_seconds() > 0


@pytest.mark.parametrize(
    ("text", "ok"),
    [("30d", True), ("521w", True), ("522w", False), ("3650d", True), ("3651d", False), ("0s", False)],
)
def test_duration_boundaries_are_the_parsers(text: str, ok: bool) -> None:
    try:
        parse_duration(text)
        parsed = True
    except Exception:
        parsed = False
    assert parsed == ok
    assert bool(re.match(_pattern(c.Duration), text)) == ok


@settings(max_examples=200, deadline=None)
@given(text=_draws(c.ArtifactPath))
def test_every_artifact_path_the_pattern_allows_is_clean(text: str) -> None:
    if len(text) <= 500:
        TypeAdapter(c.ArtifactPath).validate_python(text)
        clean_path(text)


@settings(max_examples=200, deadline=None)
@given(text=_draws(c.Reference))
def test_every_reference_the_pattern_allows_parses(text: str) -> None:
    TypeAdapter(c.Reference).validate_python(text)
    parse_ref(text)


@settings(max_examples=100, deadline=None)
@given(text=_draws(c.KeyName))
def test_every_key_the_pattern_allows_is_a_key(text: str) -> None:
    TypeAdapter(c.KeyName).validate_python(text)
    check_key(text)


@settings(max_examples=50, deadline=None)
@given(text=_draws(c.Digest))
def test_every_digest_the_pattern_allows_is_a_digest(text: str) -> None:
    assert check_digest(TypeAdapter(c.Digest).validate_python(text)) == text


@pytest.mark.parametrize(
    ("tp", "value", "wording"),
    [
        (c.Limit, 0, "limit must be between 1 and 1000, got 0"),
        (c.Limit, 1001, "limit must be between 1 and 1000, got 1001"),
        (c.Digest, "xyz", "not a BLAKE3 digest: 'xyz'"),
        (c.AliasName, "a b", "alias 'a b' is not a valid name"),
        (c.AliasName, "7", "alias '7' is a number"),
        (c.Email, "nobody", "email 'nobody' is not an email address"),
        (c.Duration, "0d", "is not a duration"),
        (c.Percent, 101, "a canary share must be from 0 to 100"),
        (c.PageToken, "a b", "page token is not valid"),
        (c.KpiText, "accuracy", "malformed KPI 'accuracy'"),
        (c.ArtifactPath, "../x", "must be relative"),
        (c.ArtifactPath, "/etc/passwd", "must be relative"),
        (c.Reference, "run", "not a reference"),
        (c.GraceSeconds, -1.0, "grace_s must not be negative, got -1.0"),
        (c.LineageDepth, 51, "depth must be between 1 and 50, got 51"),
        (c.DiffExamples, -1, "examples must be between 0 and 100, got -1"),
    ],
)
def test_each_type_refuses_in_the_capabilitys_words(tp: Any, value: Any, wording: str) -> None:
    assert wording in _refusal(tp, value)


def test_a_value_of_the_wrong_type_keeps_pydantics_message() -> None:
    assert "valid integer" in _refusal(c.Limit, "many")


def test_since_1970_states_and_checks_the_year() -> None:
    adapter = TypeAdapter(c.Since1970)
    assert adapter.json_schema()["pattern"].startswith("^(?:19[7-9]")
    assert adapter.validate_python("1970-01-01T00:00:00Z").year == 1970
    assert "before 1970" in _refusal(c.Since1970, "1969-12-31T23:59:59Z")


def test_kpi_spec_takes_an_object_or_checked_text() -> None:
    adapter = TypeAdapter(c.KpiSpec)
    assert (
        str(adapter.validate_python("auc >= 0.8 group=sex stage=online"))
        == "auc >= 0.8 group=sex stage=online"
    )
    assert (
        str(adapter.validate_python({"metric": "auc", "comparator": ">=", "threshold": 0.8})) == "auc >= 0.8"
    )
    assert "has both group= and slice=" in _refusal(c.KpiSpec, "auc >= 0.8 group=a slice=b:c")
    assert "given twice" in _refusal(c.KpiSpec, "auc >= 0.8 stage=online stage=offline")
    assert "malformed KPI 'auc >= 1_0'" in _refusal(
        c.KpiSpec, "auc >= 1_0"
    )  # the parser takes it; the grammar not


_ID_TEXT = st.text(alphabet=st.sampled_from("0aZ9iLoU -\t\x1c\u3000!"), max_size=8)


@settings(max_examples=400, deadline=None)
@given(text=_ID_TEXT)
def test_id_or_prefix_states_exactly_what_is_too_short(text: str) -> None:
    too_short = could_be_prefix(text) and 0 < len(text.strip()) < MIN_PREFIX
    try:
        TypeAdapter(c.IdOrPrefix).validate_python(text)
        refused = False
    except ValidationError:
        refused = True
    assert refused == too_short
    assert bool(re.match(_pattern(c.IdOrPrefix), text)) == (not too_short)


def test_a_tag_value_may_be_any_text_but_nul() -> None:
    assert TypeAdapter(c.TagValue).validate_python("ünïcode, spaces; anything") == "ünïcode, spaces; anything"
    tags = Annotated[dict[c.TagKey, c.TagValue], c.TAGS]
    assert "tag 't' contains a NUL character" in _refusal(tags, {"t": "a\x00b"})
    assert "tag key 't\\x00' must be" in _refusal(tags, {"t\x00": "b"})


def test_a_kpi_threshold_is_finite_in_text_and_in_the_model() -> None:
    """``-.8E+582103`` read as -inf, stored, and every answer holding the project was a 500."""
    assert "finite number" in _refusal(c.KpiText, "auc > -.8E+582103")
    with pytest.raises(InvalidInput, match="finite"):
        parse_kpi("auc > 1e999")
    assert parse_kpi("auc > 9e307").threshold == 9e307
