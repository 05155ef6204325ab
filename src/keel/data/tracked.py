"""Tracked paths of a workspace: the ``.keel`` pointer files under its folder.

:func:`tracked_pointers` finds every
pointer under the workspace's folder (the one holding ``.keel/``), which is
what ``keel data status`` and ``keel data pull`` with no argument work on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.data.addresses import client_or_default
from keel.data.handles import Status
from keel.datasets.pointer import SUFFIX, data_path, read_pointer

#: Folders never searched for pointers.
SKIP: Final = frozenset({".keel", ".git", ".hg", ".svn", "__pycache__", ".venv", "node_modules"})


def workspace_folder(client: Client) -> Path:
    """The folder whose ``.keel/`` is the client's workspace; InvalidInput for a client with none."""
    home = client.settings.home_path if client.settings else None
    if home is None or client.is_remote:
        raise InvalidInput(
            "tracked paths belong to a workspace folder, and this client has none",
            hint="run it inside a folder made by `keel init`, or name a path",
        )
    return home.parent


def tracked_pointers(root: Path) -> list[Path]:
    """Every ``*.keel`` pointer file under ``root``, sorted; tracked data folders are not entered."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        pointers = {f for f in files if f.endswith(SUFFIX) and not f.startswith(".")}
        found += [Path(folder, f) for f in pointers]
        stems = {f[: -len(SUFFIX)] for f in pointers}
        dirs[:] = sorted(d for d in dirs if d not in SKIP and d not in stems)
    return sorted(found)


State = Literal["clean", "changed", "missing", "unknown"]


@dataclass
class Tracked:
    """One tracked path's state: ``clean``, ``changed``, ``missing`` (not checked out) or ``unknown``.

    ``unknown`` means this workspace has no record of the pointer's dataset
    (a fresh clone before ``keel data pull``); ``status`` is set when compared.
    """

    pointer: Path
    path: Path
    address: str
    state: State
    status: Status | None = None


def status_all(*, root: Path | None = None, client: Client | None = None) -> list[Tracked]:
    """The state of every tracked path under ``root`` (default: the workspace's folder), in one process."""
    from keel.data.versioning import status

    c = client_or_default(client)
    found = []
    for pointer_file in tracked_pointers(root or workspace_folder(c)):
        pointer = read_pointer(pointer_file)
        path = data_path(pointer_file, pointer)
        if not path.exists():
            found.append(Tracked(pointer_file, path, pointer.address, "missing"))
            continue
        try:
            result = status(path, client=c)
        except NotFound:
            found.append(Tracked(pointer_file, path, pointer.address, "unknown"))
            continue
        state: State = "clean" if result.clean else "changed"
        found.append(Tracked(pointer_file, path, pointer.address, state, result))
    return found
