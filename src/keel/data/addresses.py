"""Addresses to versions: which client, which project, which version a call means.

Addresses are ``name@v3``, ``name@latest``, ``name@<tag>``, ``name@<digest>``,
``project/name@v3``, or a pointer file's path (``data/images.keel``); without
a project the current one is used (``keel.init(project=...)`` or the
``project`` setting).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.core.paging import Page
from keel.datasets.address_syntax import Address, split_address
from keel.datasets.pointer import SUFFIX, read_pointer
from keel.datasets.schemas import DatasetVersion

T = TypeVar("T")

#: The address of "every dataset of the project", for calls that take only a project.
ANY_DATASET = Address(None, "*", "latest")


def client_or_default(client: Client | None) -> Client:
    """``client``, or the SDK's current one (``keel.init``, else the workspace found from here)."""
    if client is not None:
        return client
    from keel.sdk import get_client  # the module-level SDK state; loads tracking, so only when needed

    return get_client()


def project_of(address: Address, project: str | None) -> str:
    """The project an address belongs to: its own, else ``project``, else the current one.

    Raises InvalidInput naming the dataset when none is known.
    """
    chosen = address.project or project
    if not chosen:
        from keel.sdk import current_project

        chosen = current_project()
    if not chosen:
        raise InvalidInput(
            f"no project for {address.name!r}: write project/{address.name}, pass --project, "
            "or set the project setting (keel config set project NAME)"
        )
    return chosen


def resolve(address: str, *, project: str | None = None, client: Client | None = None) -> DatasetVersion:
    """The version an address names (``name@v3``, ``project/name@golden``, a pointer file's path).

    Raises InvalidInput for a malformed address or a pointer whose digest
    disagrees with the version it names, NotFound for an unknown one.
    """
    c = client_or_default(client)
    if address.endswith(SUFFIX) and Path(address).is_file():
        pointer = read_pointer(Path(address))
        version: DatasetVersion = c.data.version(
            project=pointer.project, name=pointer.dataset, version=f"v{pointer.version}"
        )
        if version.digest != pointer.digest:
            raise InvalidInput(
                f"pointer file {address} says {pointer.address} has digest {pointer.digest[:12]}..., "
                f"but that version's digest is {version.digest[:12]}..."
            )
        return version
    parsed = split_address(address)
    return c.data.version(project=project_of(parsed, project), name=parsed.name, version=parsed.selector)


def all_pages(
    fetch: Callable[[str | None], Page[T]] | Callable[[str | None], Any], token: str | None = None
) -> list[T]:
    """Every item of a paged listing from ``token`` on, following ``next_token`` to the end."""
    items: list[T] = []
    while True:
        page = fetch(token)
        items.extend(page.items)
        token = page.next_token
        if not token:
            return items
