"""Flavors: how one kind of model is written to files and read back, and what it needs installed.

A flavor is an object with ``name``, ``framework``, ``accepts(model)``,
``packages()``, ``save(model, folder)`` and ``load(folder, manifest)``; a
flavor whose models have no ``predict`` method (a torch module) also offers
``predict(model, data)``, which :func:`keel.models.save` uses to answer the
input example.

Every flavor, Keel's own included, is found through the ``keel.model_flavors``
entry-point group (STYLE.md habit 9): Keel's ``pyproject.toml`` declares

    [project.entry-points."keel.model_flavors"]
    sklearn = "keel.models.sklearn_flavor:FLAVOR"

and a third party's distribution declares its own the same way. The group
is scanned once per process; a flavor module is imported only when it is
used, and imports its framework only inside its methods. To choose a flavor
for a model, third parties' flavors are asked first (a plugin is more
specific than Keel's general ones), then Keel's, each group by name.
``pickle`` never volunteers: it is used only when the caller says
``unsafe_pickle=True``, and that is recorded.
"""

from __future__ import annotations

import functools
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from keel.core.errors import ConfigError, InvalidInput, MissingExtra

if TYPE_CHECKING:
    from keel.models.manifest import Manifest

#: The entry-point group every flavor registers in.
GROUP: Final = "keel.model_flavors"
#: The distribution whose flavors are the built-ins (asked after third parties').
KEEL_DISTRIBUTION: Final = "keel"
#: The built-ins' pip extras, for the "install keel[...]" hint when a framework is missing.
EXTRAS: Final = {"torch": "torch", "onnx": "onnx"}


class Flavor(Protocol):
    """One way of storing a kind of model."""

    name: str
    #: The distribution whose version decides compatibility ("scikit-learn").
    framework: str

    def accepts(self, model: Any) -> bool:
        """Whether this flavor stores ``model``; cheap, and never imports a framework not yet imported."""
        ...

    def packages(self) -> list[str]:
        """Distributions the saved files need, pinned into the manifest's requirements."""
        ...

    def save(self, model: Any, folder: Path) -> str:
        """Write the model's files into ``folder``; returns the model file's name."""
        ...

    def load(self, folder: Path, manifest: Manifest) -> Any:
        """The model back from ``folder``: an object with ``predict`` (and ``predict_proba`` if it has one)."""
        ...


@functools.cache
def installed_version(dist: str) -> str | None:
    """The installed version of distribution ``dist``, or None.

    Cached for the process: each lookup scans every ``site-packages`` entry
    (about 15 ms), and a model logged twice should not pay that twice.
    """
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _origin(point: metadata.EntryPoint) -> str:
    dist = point.dist
    return dist.name if dist is not None else point.value.split(":", 1)[0]


@functools.cache
def registered() -> dict[str, metadata.EntryPoint]:
    """Every installed flavor's entry point by name: third parties' first, then Keel's, each by name.

    A name two distributions both claim is left out and reported by
    :func:`get_flavor` (which of them is meant cannot be guessed).
    """
    found: dict[str, metadata.EntryPoint] = {}
    for point in metadata.entry_points(group=GROUP):
        other = found.get(point.name)
        if other is None:
            found[point.name] = point
        elif _origin(other) != _origin(point):
            _CLASHES[point.name] = sorted({_origin(other), _origin(point)})
    for name in _CLASHES:
        found.pop(name, None)
    order = sorted(found.values(), key=lambda p: (_origin(p) == KEEL_DISTRIBUTION, p.name))
    return {p.name: p for p in order}


_CLASHES: dict[str, list[str]] = {}
_LOADED: dict[str, Flavor] = {}


def forget_flavors() -> None:
    """Forget the scanned entry points and loaded flavors (after installing a plugin in-process; tests)."""
    registered.cache_clear()
    _CLASHES.clear()
    _LOADED.clear()


def _load(point: metadata.EntryPoint) -> Flavor:
    if point.name in _LOADED:
        return _LOADED[point.name]
    try:
        obj = point.load()
    except ImportError as exc:
        extra = EXTRAS.get(point.name) if _origin(point) == KEEL_DISTRIBUTION else None
        hint = f"pip install 'keel[{extra}]'" if extra else f"install what {_origin(point)} needs"
        raise MissingExtra(
            f"model flavor {point.name!r} ({point.value}) cannot be imported: {exc}", hint=hint
        ) from exc
    flavor: Flavor = obj() if isinstance(obj, type) else obj
    for attribute in ("name", "framework", "accepts", "packages", "save", "load"):
        if not hasattr(flavor, attribute):
            raise ConfigError(
                f"model flavor {point.name!r} ({point.value}, from {_origin(point)}) has no {attribute!r}",
                hint="a flavor needs name, framework, accepts, packages, save and load",
            )
    _LOADED[point.name] = flavor
    return flavor


def flavor_names() -> list[str]:
    """The installed flavors' names, in the order they are asked to accept a model."""
    return list(registered())


def get_flavor(name: str) -> Flavor:
    """The flavor registered as ``name``; InvalidInput if none is, ConfigError if two distributions claim it."""
    points = registered()
    if name in _CLASHES:
        raise ConfigError(
            f"model flavor {name!r} is registered by {' and '.join(_CLASHES[name])}",
            hint="uninstall one of them",
        )
    if name not in points:
        raise InvalidInput(
            f"no model flavor {name!r} is installed (installed: {', '.join(points) or 'none'})",
            hint=f"install the package that provides it (entry-point group {GROUP!r})",
        )
    return _load(points[name])


def flavor_for(model: Any, *, unsafe_pickle: bool = False) -> Flavor:
    """The flavor that stores ``model`` without code on load; ``pickle`` only when asked for."""
    if unsafe_pickle:
        return get_flavor("pickle")
    for point in registered().values():
        flavor = _load(point)
        if flavor.accepts(model):
            return flavor
    raise InvalidInput(
        f"unsupported object: no flavor stores a {type(model).__module__}.{type(model).__qualname__} "
        "in a format that runs no code on load",
        hint="pass unsafe_pickle=True to store it as a pickle (loading it then runs code)",
    )
