"""Keel's native format for forests of decision trees: arrays and JSON, rebuilt without running code.

skops spends seconds on a 300-tree forest (each tree's arrays its own zip
member with a JSON schema, 6 MB) and MLflow falls back to cloudpickle,
which runs code on load. Here a forest is two files:

- ``model.trees.json``: the estimator's attributes, each a JSON value or a
  reference into the arrays; sub-estimators as ``{"estimator": class,
  "state": ...}``; each tree as ``{"tree": i, ...}`` with its shape;
- ``model.trees.npz``: every other array, plus all trees' node records
  concatenated into one array and all their values into another (an
  ``.npz`` read with ``allow_pickle=False``: raw numbers, no objects).

Only the classes in :data:`CLASSES` are built, by ``__new__`` and their
attribute dict (as unpickling would, without any code from the file); every
tree is rebuilt with ``Tree.__setstate__`` from its slice, and the whole
model then goes through :func:`keel.models.trees.vouch` (children after
parents, indices in range) before anything can call ``predict``. A model
this format cannot express exactly (a ``RandomState`` as ``random_state``,
a gradient-boosting loss object) raises :class:`NotNative`, and the
``sklearn`` flavor stores it with skops instead.
"""

from __future__ import annotations

import importlib
import json
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np

from keel.core.errors import InvalidInput

JSON_FILE: Final = "model.trees.json"
ARRAYS_FILE: Final = "model.trees.npz"
FORMAT: Final = 1
#: The estimators this format builds (module path, class name); nothing else is ever instantiated.
CLASSES: Final = frozenset(
    {
        "sklearn.tree._classes.DecisionTreeClassifier",
        "sklearn.tree._classes.DecisionTreeRegressor",
        "sklearn.tree._classes.ExtraTreeClassifier",
        "sklearn.tree._classes.ExtraTreeRegressor",
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.ensemble._forest.RandomForestRegressor",
        "sklearn.ensemble._forest.ExtraTreesClassifier",
        "sklearn.ensemble._forest.ExtraTreesRegressor",
    }
)
_TREE: Final = "sklearn.tree._tree.Tree"


class NotNative(Exception):
    """The model holds something this format does not store exactly; use skops."""


def _name(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


class _Writer:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.nodes: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.seen: dict[tuple[str, tuple[int, ...], bytes], int] = {}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.generic) and value.dtype.kind in "biuf":
            return {"scalar": value.item(), "dtype": value.dtype.str}
        if isinstance(value, list | tuple):
            return {"list" if isinstance(value, list) else "tuple": [self.encode(v) for v in value]}
        if isinstance(value, np.ndarray):
            return self._array(value)
        name = _name(value)
        if name in CLASSES:
            return {"estimator": name, "state": {k: self.encode(v) for k, v in vars(value).items()}}
        if name == _TREE:
            return self._tree(value)
        raise NotNative(name)

    def _array(self, value: np.ndarray) -> dict[str, Any]:
        as_str = value.dtype == object
        if as_str:
            if not all(isinstance(v, str) for v in value.ravel()):
                raise NotNative("an object array holding more than strings")
            value = value.astype(str)
        elif value.dtype.kind not in "biufU":
            raise NotNative(f"an array of {value.dtype}")
        key = (value.dtype.str, value.shape, value.tobytes())
        index = self.seen.get(key)
        if index is None:  # each of a forest's trees holds the same classes_: stored once
            index = self.seen[key] = len(self.arrays)
            self.arrays.append(value)
        return {"array": index, "object": as_str}

    def _tree(self, tree: Any) -> dict[str, Any]:
        _, (n_features, n_classes, n_outputs), _ = tree.__reduce__()[:3]
        state = tree.__getstate__()
        if self.values and self.values[0].shape[1:] != state["values"].shape[1:]:
            raise NotNative("trees of different value shapes")
        self.nodes.append(state["nodes"])
        self.values.append(state["values"])
        return {
            "tree": len(self.nodes) - 1,
            "n_features": int(n_features),
            "n_classes": [int(c) for c in n_classes],
            "n_outputs": int(n_outputs),
            "max_depth": int(state["max_depth"]),
            "node_count": int(state["node_count"]),
        }


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An ``.npz`` as ``np.load`` reads it, deflated at level 1: a fifth of the raw node records'
    size at a quarter of ``savez_compressed``'s time (level 6), which dominated saving a forest."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def dump(model: Any, folder: Path) -> str:
    """Write ``model`` in this format into ``folder``; returns the JSON file's name, NotNative if it cannot."""
    if _name(model) not in CLASSES:
        raise NotNative(_name(model))
    writer = _Writer()
    doc = {"format": FORMAT, "model": writer.encode(model)}
    if not writer.nodes:
        raise NotNative("no fitted trees")
    payload: dict[str, Any] = {f"a{i}": a for i, a in enumerate(writer.arrays)}
    payload["nodes"] = np.concatenate(writer.nodes)
    payload["values"] = np.concatenate(writer.values)
    payload["counts"] = np.asarray([len(n) for n in writer.nodes], dtype=np.int64)
    _write_npz(folder / ARRAYS_FILE, payload)
    (folder / JSON_FILE).write_text(json.dumps(doc, separators=(",", ":"), allow_nan=True))
    return JSON_FILE


class _Reader:
    def __init__(self, arrays: Any) -> None:
        self.arrays = arrays
        self.nodes = arrays["nodes"]
        self.values = arrays["values"]
        counts = arrays["counts"].astype(np.int64)
        if (counts < 1).any() or counts.sum() != len(self.nodes) or len(self.values) != len(self.nodes):
            raise InvalidInput(f"{ARRAYS_FILE}: the trees' node counts do not add up to the stored nodes")
        self.starts = np.concatenate([[0], np.cumsum(counts)])

    def decode(self, value: Any, where: str) -> Any:
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if not isinstance(value, dict):
            raise InvalidInput(f"{JSON_FILE}: {where} is not a value this format writes")
        if "scalar" in value:
            return np.dtype(str(value["dtype"])).type(value["scalar"])
        if "list" in value or "tuple" in value:
            raw = value["list"] if "list" in value else value["tuple"]
            if not isinstance(raw, list):
                raise InvalidInput(f"{JSON_FILE}: {where} is not a list")
            items = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(raw)]
            return items if "list" in value else tuple(items)
        if "array" in value:
            key = f"a{int(value['array'])}"
            if key not in self.arrays:
                raise InvalidInput(f"{JSON_FILE}: {where} names array {key}, which {ARRAYS_FILE} lacks")
            array = self.arrays[key]  # shared by every reference: a copy each, as unpickling gives
            return array.astype(object) if value.get("object") else array.copy()
        if "estimator" in value:
            return self._estimator(value, where)
        if "tree" in value:
            return self._tree(value, where)
        raise InvalidInput(f"{JSON_FILE}: {where} is not a value this format writes")

    def _estimator(self, value: dict[str, Any], where: str) -> Any:
        name = str(value["estimator"])
        if name not in CLASSES:
            raise InvalidInput(f"{JSON_FILE}: {where} is a {name}, which this format never builds")
        module, _, cls_name = name.rpartition(".")
        cls = getattr(importlib.import_module(module), cls_name)
        obj = cls.__new__(cls)
        state = value.get("state")
        if not isinstance(state, dict):
            raise InvalidInput(f"{JSON_FILE}: {where} has no attributes")
        obj.__dict__.update({str(k): self.decode(v, f"{where}.{k}") for k, v in state.items()})
        return obj

    def _tree(self, value: dict[str, Any], where: str) -> Any:
        from sklearn.tree._tree import Tree

        i = int(value["tree"])
        if not 0 <= i < len(self.starts) - 1:
            raise InvalidInput(
                f"{JSON_FILE}: {where} names tree {i}; {ARRAYS_FILE} holds {len(self.starts) - 1}"
            )
        start, end = int(self.starts[i]), int(self.starts[i + 1])
        if int(value["node_count"]) != end - start:
            raise InvalidInput(
                f"{JSON_FILE}: {where} says {value['node_count']} nodes; its slice holds {end - start}"
            )
        tree = Tree(
            int(value["n_features"]), np.asarray(value["n_classes"], dtype=np.intp), int(value["n_outputs"])
        )
        try:
            tree.__setstate__(
                {
                    "max_depth": int(value["max_depth"]),
                    "node_count": end - start,
                    "nodes": np.ascontiguousarray(self.nodes[start:end]),
                    "values": np.ascontiguousarray(self.values[start:end]),
                }
            )
        except (ValueError, TypeError) as exc:
            raise InvalidInput(
                f"{ARRAYS_FILE}: {where} does not fit scikit-learn's tree layout: {exc}"
            ) from None
        return tree


def load(folder: Path, json_file: str) -> Any:
    """The model in ``folder`` (not yet vouched for: the caller checks every tree before use)."""
    try:
        doc = json.loads((folder / json_file).read_text())
    except ValueError as exc:
        raise InvalidInput(f"{json_file} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidInput(f"{json_file}: not tree format {FORMAT}", hint="upgrade Keel to load it")
    try:
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            reader = _Reader({k: arrays[k] for k in arrays.files})
    except (ValueError, OSError, KeyError) as exc:
        raise InvalidInput(f"{ARRAYS_FILE} cannot be read as plain arrays: {exc}") from None
    try:
        return reader.decode(doc.get("model"), "model")
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"{json_file}: a malformed entry: {type(exc).__name__}: {exc}") from None
