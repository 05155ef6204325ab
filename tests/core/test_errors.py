"""The error tree: each class carries its consequences, and round-trips through JSON."""

from __future__ import annotations

from typing import Any

import pytest

from keel.core import errors
from keel.core.errors import KeelError


def all_error_classes() -> list[type[KeelError]]:
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, KeelError)]


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_declares_its_consequences(cls: type[KeelError]) -> None:
    assert cls.code and cls.headline
    assert 400 <= cls.status <= 599
    assert cls.exit_code in (1, 2, 3)
    assert errors.error_class(cls.code) is cls


def test_codes_are_unique() -> None:
    codes = [c.code for c in all_error_classes()]
    assert len(codes) == len(set(codes))


def test_caller_mistakes_are_4xx_and_exit_2() -> None:
    for cls in (errors.InvalidInput, errors.NotFound, errors.AlreadyExists, errors.PermissionDenied):
        assert 400 <= cls.status < 500
        assert cls.exit_code == 2
    assert errors.CheckFailed.exit_code == 1
    assert errors.DatabaseUnavailable.status == 503 and errors.DatabaseUnavailable.retryable


def test_round_trip_rebuilds_the_same_class() -> None:
    original = errors.NotFound("no project named 'x'", hint="see `keel project ls`", name="x")
    body = original.to_dict()
    assert body == {
        "error": {
            "code": "not_found",
            "message": "no project named 'x'",
            "hint": "see `keel project ls`",
            "details": {"name": "x"},
        }
    }
    rebuilt = KeelError.from_dict(body, 404)
    assert type(rebuilt) is errors.NotFound
    assert rebuilt.message == original.message and rebuilt.hint == original.hint
    assert rebuilt.details == {"name": "x"}


def test_unknown_code_becomes_the_root_class() -> None:
    rebuilt = KeelError.from_dict({"error": {"code": "from_the_future", "message": "m"}})
    assert type(rebuilt) is KeelError and rebuilt.message == "m"
    assert type(KeelError.from_dict({}, 502)) is KeelError


def test_a_bare_status_rebuilds_to_the_one_class_standing_for_it() -> None:
    claims: dict[int, list[str]] = {}
    for cls in all_error_classes():
        if cls.__dict__.get("stands_for_status", False):
            claims.setdefault(cls.status, []).append(cls.__name__)
    assert all(len(names) == 1 for names in claims.values()), claims
    assert errors.error_class_for_status(404) is errors.NotFound
    assert errors.error_class_for_status(409) is errors.Conflict
    assert errors.error_class_for_status(503) is errors.DatabaseUnavailable
    assert errors.error_class_for_status(507) is errors.StorageFull
    assert errors.error_class_for_status(400) is errors.InvalidInput  # any other 4xx: the caller's mistake
    assert errors.error_class_for_status(500) is KeelError
    assert errors.error_class_for_status(504) is KeelError


def test_a_subclass_does_not_inherit_the_status_claim() -> None:
    class Sub(errors.NotFound):
        code = "test_sub_not_found"

    try:
        assert errors.error_class_for_status(404) is errors.NotFound
    finally:
        del KeelError._by_code["test_sub_not_found"]


def test_one_line_is_the_headline_then_the_message() -> None:
    assert errors.NotFound("no project named 'x'").one_line() == "not found: no project named 'x'"
    same = errors.WorkspaceNotFound("no Keel workspace here; run `keel init`")
    assert same.one_line() == "no Keel workspace here; run `keel init`"  # not said twice


def test_the_cli_prints_the_headline_and_the_message(keel_cli: Any) -> None:
    result = keel_cli("-c", "server_port=abc", "config", "show")
    assert result.code == errors.ConfigError.exit_code
    assert result.err.startswith(
        "keel: error: bad configuration: setting server_port from the command line is not a valid int"
    )


def test_no_class_is_defined_twice() -> None:
    # A merge that appends a class a second time silently replaces the first; the source says so.
    import collections
    import inspect
    import re

    names = re.findall(r"^class (\w+)\(", inspect.getsource(errors), re.MULTILINE)
    twice = [name for name, n in collections.Counter(names).items() if n > 1]
    assert twice == []


def test_every_error_class_lives_in_keel_core_errors() -> None:
    # A class defined elsewhere registers its code only once its module is imported: a remote
    # client that never imported it would rebuild the root class (exit 3) instead of it.
    import re
    from pathlib import Path

    ours = {cls.__name__ for cls in all_error_classes()}
    src = Path(errors.__file__).resolve().parents[1]
    elsewhere = []
    for path in src.rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "core":
            continue
        for name, base in re.findall(
            r"^class (\w+)\((\w+)\)", path.read_text(encoding="utf-8"), re.MULTILINE
        ):
            if base in ours:
                elsewhere.append(f"{path.relative_to(src)}: {name}({base})")
    assert elsewhere == [], "define these in keel/core/errors.py (append): " + ", ".join(elsewhere)
