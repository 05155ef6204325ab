"""Flavors: how one kind of model is written to files and read back, and what it needs installed.

A flavor is an object with ``name``, ``accepts(model)``, ``save(model, folder)``
and ``load(folder, manifest)``. Keel's own are looked up first; a third
party adds one through the ``keel.model_flavors`` entry-point group (a
``module:object`` naming a :class:`Flavor`), the same hook Keel's would use.

``sklearn`` writes skops, a format that executes no code on load: only
skops' default types, plus the tree classes :mod:`keel.models.trees` checks
node by node, are trusted. ``pickle`` runs code on load, so it is used only
when the caller says ``unsafe_pickle=True``, and that is recorded.
"""

from __future__ import annotations

import functools
import importlib
import pickle
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from keel.core.errors import InvalidInput
from keel.models.trees import VOUCHED_TYPES, vouch

if TYPE_CHECKING:
    from keel.models.manifest import Manifest


class Flavor(Protocol):
    """One way of storing a kind of model."""

    name: str
    #: The distribution whose version decides compatibility ("scikit-learn").
    framework: str

    def accepts(self, model: Any) -> bool: ...

    def packages(self) -> list[str]:
        """Distributions the saved files need, pinned into the manifest's requirements."""
        ...

    def save(self, model: Any, folder: Path) -> str:
        """Write the model's files into ``folder``; returns the model file's name."""
        ...

    def load(self, folder: Path, manifest: Manifest) -> Any: ...


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


def _module_root(model: Any) -> str:
    return type(model).__module__.split(".", 1)[0]


class SklearnFlavor:
    """scikit-learn estimators, Pipelines and ColumnTransformers through skops, trees included."""

    name = "sklearn"
    framework = "scikit-learn"
    model_file: Final = "model.skops"

    def accepts(self, model: Any) -> bool:
        if _module_root(model) == "sklearn":
            return True
        try:
            from sklearn.base import BaseEstimator
        except ImportError:
            return False
        return isinstance(model, BaseEstimator)

    def packages(self) -> list[str]:
        return ["scikit-learn", "skops", "numpy", "scipy"]

    def save(self, model: Any, folder: Path) -> str:
        import skops.io as sio

        data = sio.dumps(model)
        untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(VOUCHED_TYPES))
        if untrusted:
            raise InvalidInput(
                f"unsupported object: skops cannot store {', '.join(untrusted)} so that it loads "
                "without running code",
                hint="use scikit-learn's own classes, or pass unsafe_pickle=True to store a pickle "
                "(loading it runs code, and the manifest says so)",
            )
        (folder / self.model_file).write_bytes(data)
        return self.model_file

    def load(self, folder: Path, manifest: Manifest) -> Any:
        import skops.io as sio

        path = folder / manifest.model_file
        try:  # one pass: skops refuses any type beyond its defaults and the two Keel vouches for
            model = sio.load(path, trusted=list(VOUCHED_TYPES))
        except sio.exceptions.UntrustedTypesFoundException as exc:
            raise InvalidInput(f"{manifest.model_file} holds types Keel does not trust: {exc}") from None
        except Exception as exc:
            raise InvalidInput(
                f"{manifest.model_file} could not be loaded: {type(exc).__name__}: {exc}"
            ) from None
        vouch(model)  # before anything can call predict
        return model


class PickleFlavor:
    """Any picklable object; loading runs code, so both saving and loading must opt in."""

    name = "pickle"
    framework = "python"
    model_file: Final = "model.pkl"

    def accepts(self, model: Any) -> bool:
        return True

    def packages(self) -> list[str]:
        return ["cloudpickle"] if installed_version("cloudpickle") else []

    def save(self, model: Any, folder: Path) -> str:
        dumper: Any = pickle
        if installed_version("cloudpickle"):  # lambdas and local classes, as MLflow stores them
            dumper = importlib.import_module("cloudpickle")
        try:
            data = dumper.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise InvalidInput(
                f"unsupported object: a {type(model).__name__} cannot be pickled: {exc}"
            ) from None
        (folder / self.model_file).write_bytes(data)
        return self.model_file

    def load(self, folder: Path, manifest: Manifest) -> Any:
        with (folder / manifest.model_file).open("rb") as handle:
            return pickle.load(handle)


BUILTIN: Final[dict[str, Flavor]] = {"sklearn": SklearnFlavor(), "pickle": PickleFlavor()}


def get_flavor(name: str) -> Flavor:
    """The flavor called ``name``: Keel's own, else one registered in ``keel.model_flavors``."""
    if name in BUILTIN:
        return BUILTIN[name]
    for ep in metadata.entry_points(group="keel.model_flavors"):
        if ep.name == name:
            flavor: Flavor = ep.load()
            return flavor
    raise InvalidInput(f"no model flavor {name!r} is installed", hint="install the package that provides it")


def flavor_for(model: Any, *, unsafe_pickle: bool = False) -> Flavor:
    """The flavor that stores ``model`` without code on load; ``pickle`` only when asked for."""
    if unsafe_pickle:
        return BUILTIN["pickle"]
    if BUILTIN["sklearn"].accepts(model):
        return BUILTIN["sklearn"]
    for ep in metadata.entry_points(group="keel.model_flavors"):  # scanned only for other objects
        flavor: Flavor = ep.load()
        if flavor.accepts(model):
            return flavor
    raise InvalidInput(
        f"unsupported object: no flavor stores a {type(model).__module__}.{type(model).__qualname__} "
        "in a format that runs no code on load",
        hint="pass unsafe_pickle=True to store it as a pickle (loading it then runs code)",
    )
