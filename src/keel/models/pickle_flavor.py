"""The ``pickle`` flavor: any picklable object; loading runs code, so saving and loading must both opt in.

It never volunteers (``accepts`` is False): :func:`keel.models.flavors.flavor_for`
picks it only for ``unsafe_pickle=True``, the manifest records it, and a
load refuses it unless the caller passes ``unsafe_pickle=True`` too.
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from keel.core.errors import InvalidInput
from keel.models.flavors import installed_version

if TYPE_CHECKING:
    from keel.models.manifest import Manifest


class PickleFlavor:
    """Any picklable object, with cloudpickle when installed (lambdas and local classes, as MLflow stores them)."""

    name = "pickle"
    framework = "python"
    model_file: Final = "model.pkl"

    def accepts(self, model: Any) -> bool:
        return False  # only by explicit choice

    def packages(self) -> list[str]:
        return ["cloudpickle"] if installed_version("cloudpickle") else []

    def save(self, model: Any, folder: Path) -> str:
        dumper: Any = pickle
        if installed_version("cloudpickle"):
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


FLAVOR: Final = PickleFlavor()
