"""``checkout``: a version's files written into a folder, or back beside their pointer file."""

from __future__ import annotations

from pathlib import Path

from keel.client import Client
from keel.core.errors import InvalidInput
from keel.data.addresses import client_or_default, resolve
from keel.data.handles import CheckedOut
from keel.data.materialise import materialise, restore_file
from keel.data.staging import staging_for
from keel.datasets.pointer import SUFFIX, data_path, read_pointer


def checkout(
    target: str,
    dest: str | Path | None = None,
    *,
    include: str | None = None,
    force: bool = False,
    hardlink: bool = False,
    project: str | None = None,
    client: Client | None = None,
) -> CheckedOut:
    """Write a version's files (verified; reflink, else copy) into ``dest``.

    ``target`` is an address or a pointer file (``data/images.keel``), which
    restores the data beside the pointer. A non-empty ``dest`` needs ``force``.
    Raises InvalidInput for an address with no ``dest``, Conflict for a
    destination in the way.
    """
    c = client_or_default(client)
    version = resolve(target, project=project, client=c)
    staging = staging_for(c)
    staging.fetch_version(version, include)
    if dest is None:
        if not target.endswith(SUFFIX):
            raise InvalidInput("say where to check out: keel data checkout NAME@vN DEST")
        located = data_path(Path(target), read_pointer(Path(target)))
        if version.layout == "file":
            written = restore_file(staging.store, version, located, force=force, hardlink=hardlink)
            return CheckedOut(version, located, written)
        written = materialise(
            staging.store, version, located, include=include, force=force, hardlink=hardlink
        )
        return CheckedOut(version, located, written)
    out = Path(dest)
    written = materialise(staging.store, version, out, include=include, force=force, hardlink=hardlink)
    return CheckedOut(version, out, written)
