"""The ``sklearn`` flavor: estimators, Pipelines and ColumnTransformers through skops, trees included.

skops is a format that executes no code on load: only skops' default types,
plus the tree classes :mod:`keel.models.trees` checks node by node, are
trusted. Forests and single decision trees go into Keel's own tree format
(:mod:`keel.models.tree_format`: JSON plus plain arrays, 30x faster than
skops on a 300-tree forest and a fifth of its size) when it can express
them exactly, and into skops otherwise; either way every tree is vouched
for before the model is returned. Registered as ``keel.models.sklearn_flavor:FLAVOR`` in the
``keel.model_flavors`` entry-point group, as a third party's flavor would be.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from keel.core.errors import InvalidInput
from keel.models.trees import VOUCHED_TYPES, vouch

if TYPE_CHECKING:
    from keel.models.manifest import Manifest


class SklearnFlavor:
    """scikit-learn estimators through skops; tree node storage vouched for on every load."""

    name = "sklearn"
    framework = "scikit-learn"
    model_file: Final = "model.skops"

    def accepts(self, model: Any) -> bool:
        if type(model).__module__.split(".", 1)[0] == "sklearn":
            return True
        base = sys.modules.get("sklearn.base")  # never imported here: no scikit-learn, no estimator
        return base is not None and isinstance(model, base.BaseEstimator)

    def packages(self) -> list[str]:
        return ["scikit-learn", "skops", "numpy", "scipy"]

    def save(self, model: Any, folder: Path) -> str:
        from keel.models import tree_format

        try:
            return tree_format.dump(model, folder)
        except tree_format.NotNative:
            for leftover in (tree_format.JSON_FILE, tree_format.ARRAYS_FILE):
                (folder / leftover).unlink(missing_ok=True)
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
        from keel.models import tree_format

        if manifest.model_file == tree_format.JSON_FILE:
            if tree_format.ARRAYS_FILE not in manifest.files:
                raise InvalidInput(f"the package lacks {tree_format.ARRAYS_FILE} (the trees' arrays)")
            model = tree_format.load(folder, manifest.model_file)
            vouch(model)  # before anything can call predict
            return model
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


FLAVOR: Final = SklearnFlavor()
