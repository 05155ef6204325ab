"""The capabilities Keel exposes, found through Python entry points; the server and the SDK both read them.

A capability is a :class:`~keel.context.Service` registered in the entry-point
group ``keel.capabilities`` under its SDK attribute name. Keel's own are
declared in its ``pyproject.toml``, exactly as a third-party package declares
one::

    [project.entry-points."keel.capabilities"]
    notes = "keel_notes:NoteService"

and that is all it takes to give it REST routes and SDK calls (local and
remote: ``client.notes.add(...)``). Nothing is discovered at import:
``import keel`` and ``keel --help`` never read package metadata. The first
service a process needs reads Keel's own registrations (one distribution's
metadata); only a name Keel does not register, or a whole listing (the
server, ``dir(client)``), scans every installed distribution. Services load on
first use, so ``keel project ls`` imports the projects capability and not
every other one; the server loads them all.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from keel.core.errors import ConfigError

if TYPE_CHECKING:
    from keel.context import Service

#: The entry-point group every capability, Keel's own included, registers in.
GROUP: Final = "keel.capabilities"
#: The distribution whose registrations are the built-in capabilities.
KEEL_DISTRIBUTION: Final = "keel"


@functools.cache
def builtin_capabilities() -> Mapping[str, str]:
    """Keel's own capabilities: SDK name -> ``"module:Class"``, from Keel's installed metadata.

    Raises ConfigError when Keel's metadata registers none: an install older
    than its ``pyproject.toml`` (reinstall it).
    """
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        found = {
            ep.name: ep.value for ep in distribution(KEEL_DISTRIBUTION).entry_points if ep.group == GROUP
        }
    except PackageNotFoundError:
        found = {}
    if not found:
        raise ConfigError(
            f"Keel's own capabilities are not registered: no {GROUP!r} entry points in the installed "
            f"{KEEL_DISTRIBUTION!r} distribution",
            hint="reinstall Keel so its metadata matches pyproject.toml: pip install -e .",
        )
    return found


@functools.cache
def capabilities() -> Mapping[str, str]:
    """Every registered capability: SDK name -> ``"module:Class"``, Keel's first, then others by name.

    Scans every installed distribution's entry points. Two packages claiming
    one name for different classes is a ConfigError naming both: a plugin can
    add a capability, never silently replace one.
    """
    from importlib.metadata import entry_points

    builtin = builtin_capabilities()
    claims: dict[str, tuple[str, str]] = {name: (value, KEEL_DISTRIBUTION) for name, value in builtin.items()}
    for ep in entry_points(group=GROUP):
        owner = ep.dist.name if ep.dist is not None else "an unknown package"
        previous = claims.setdefault(ep.name, (ep.value, owner))
        if previous[0] != ep.value:
            raise ConfigError(
                f"two packages register the capability {ep.name!r}: {previous[1]} ({previous[0]}) "
                f"and {owner} ({ep.value})",
                hint="uninstall one of them",
            )
    others = sorted(name for name in claims if name not in builtin)
    return {**builtin, **{name: claims[name][0] for name in others}}


def forget_discovered() -> None:
    """Read the entry points afresh on next use (after installing a package into a running process)."""
    builtin_capabilities.cache_clear()
    capabilities.cache_clear()


def is_capability(name: str) -> bool:
    """Whether ``name`` is a registered capability (Keel's own answer without scanning every package)."""
    return name in builtin_capabilities() or name in capabilities()


def load_service(name: str) -> type[Service]:
    """The service class registered as ``name``; KeyError if there is none."""
    path = builtin_capabilities().get(name) or capabilities()[name]
    module, _, cls = path.partition(":")
    service: type[Service] = getattr(importlib.import_module(module), cls)
    return service


def preload(name: str) -> threading.Thread:
    """Import service ``name``'s module on another thread, for a caller about to wait on the disk.

    Why: a service module brings SQLAlchemy and its tables (about 0.4 s of
    CPU). ``keel data add`` of new files ends with one ``syncfs`` that leaves
    the interpreter idle; importing meanwhile hides that cost. A later
    ``load_service`` on the caller's thread waits for this import through
    Python's module lock, so there is nothing to join; an import error is
    left for that call to raise, with its usual message.
    """

    def run() -> None:
        with contextlib.suppress(Exception):
            load_service(name)

    thread = threading.Thread(target=run, name=f"keel-preload-{name}")
    thread.start()
    return thread


def all_services() -> tuple[type[Service], ...]:
    """Every registered service class (imports every capability, plugins' included)."""
    return tuple(load_service(name) for name in capabilities())


def __getattr__(name: str) -> Any:
    if name == "SERVICES":  # the whole tuple, for the server and for tests
        return all_services()
    raise AttributeError(f"module 'keel.services' has no attribute {name!r}")
