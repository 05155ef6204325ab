"""The error tree: each class carries its consequences, and round-trips through JSON."""

from __future__ import annotations

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
