"""The SDK for people and editors: derived calls carry the real signature and docstring; attributes are typed."""

from __future__ import annotations

import inspect
import pydoc
from collections.abc import Callable
from typing import get_type_hints

import pytest

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.core.operations import ByteStream, operations_of
from keel.services import builtin_capabilities, load_service


def test_help_shows_the_operations_signature_and_docstring(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    create = client.projects.create
    service_create = load_service("projects").create
    expected = inspect.signature(service_create)
    assert inspect.signature(create) == expected.replace(parameters=list(expected.parameters.values())[1:])
    assert create.__doc__ == service_create.__doc__ and create.__name__ == "create"
    text = pydoc.render_doc(create, renderer=pydoc.plaintext)
    assert "create(name" in text and "*args" not in text and "self" not in text
    assert service_create.__doc__.splitlines()[0] in text


@pytest.mark.parametrize("name", sorted(builtin_capabilities()))
def test_every_derived_call_has_its_operations_signature(name: str, make_keel: Callable[..., Client]) -> None:
    proxy = getattr(make_keel(), name)
    for attr, op in operations_of(load_service(name)).items():
        params = list(inspect.signature(getattr(proxy, attr)).parameters)
        assert params == list(inspect.signature(op.func).parameters)[1:], op.name
        assert getattr(proxy, attr).__doc__ == op.func.__doc__, op.name


def test_every_keel_capability_is_a_typed_client_attribute() -> None:
    classes = {name: load_service(name) for name in builtin_capabilities()}
    hints = get_type_hints(Client, localns={cls.__name__: cls for cls in classes.values()})
    for name, cls in classes.items():
        assert hints.get(name) is cls, (
            f"Client needs `{name}: {cls.__name__}` so mypy and editors see its calls"
        )


def test_the_signature_still_checks_the_call(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    with pytest.raises(InvalidInput, match=r"projects\.create: missing a required argument: 'name'"):
        client.projects.create()
    assert repr(client.projects) == "<ProjectService via InProcessBackend>"
    assert client.projects.create is client.projects.create  # bound once, then kept


def test_a_streamed_parameter_takes_bytes_chunks_or_a_bytestream(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    client.projects.create(name="p")
    whole = client.artifacts.upload("p", data=b"hello")
    chunks = client.artifacts.upload("p", data=iter([b"hel", b"lo"]))
    stream = client.artifacts.upload("p", data=ByteStream([b"hello"]))
    assert whole.digest == chunks.digest == stream.digest and whole.size == 5
    assert client.artifacts.download("p", whole.digest).read_all() == b"hello"
