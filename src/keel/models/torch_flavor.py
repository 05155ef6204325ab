"""The ``torch`` flavor: a module's weights as safetensors plus a spec of how to build it; no pickle on load.

Loading a pickled module (``torch.save(model)``) runs whatever the file says.
Here the package holds two files: ``model.safetensors`` (the state dict, in
a format of raw tensors and a JSON header) and ``module.json``, a spec of
the module: its class's import path and the constructor arguments read
back from the instance, recursively for containers (``nn.Sequential``).
Load imports the named class (installed code, never code from the file),
refuses anything that is not a ``torch.nn.Module``, builds it from the
spec, and loads the weights strictly (every name and shape must match).

Constructor arguments are recorded the way scikit-learn's ``get_params``
reads them: each ``__init__`` parameter is read from the attribute of the
same name (``nn.Linear(in_features, out_features, bias)``). A custom module
that keeps its arguments under other names cannot be rebuilt, and is
refused when it is saved, naming the argument.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    from keel.models.manifest import Manifest

SPEC_FILE: Final = "module.json"
_SKIP: Final = frozenset({"self", "device", "dtype"})
_JSON: Final = (bool, int, float, str, type(None))


def _json_value(value: Any) -> Any:
    """``value`` as JSON, or raise TypeError (tuples become lists and are made tuples again on load)."""
    if isinstance(value, _JSON):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, _JSON) for v in value):
        return {"tuple": list(value)} if isinstance(value, tuple) else list(value)
    raise TypeError(type(value).__name__)


def _from_json(value: Any) -> Any:
    return tuple(value["tuple"]) if isinstance(value, dict) and set(value) == {"tuple"} else value


def module_spec(module: Any, where: str = "model") -> dict[str, Any]:
    """How to build ``module`` again: its class path, positional children (containers) and keyword arguments."""
    import torch

    cls = type(module)
    path = f"{cls.__module__}:{cls.__qualname__}"
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidInput(
            f"unsupported object: {where} is a {cls.__qualname__} defined in {cls.__module__}, which a "
            "loader cannot import",
            hint="define the module's class in an importable module (a file of your package)",
        )
    if isinstance(module, torch.nn.Sequential | torch.nn.ModuleList):
        children = [module_spec(child, f"{where}[{i}]") for i, child in enumerate(module)]
        return {"class": path, "args": children, "kwargs": {}}
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name in _SKIP or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if not hasattr(module, name):
            if param.default is param.empty:
                raise InvalidInput(
                    f"unsupported object: {where} ({cls.__qualname__}) takes {name!r} but keeps no attribute "
                    f"of that name, so it cannot be rebuilt from its weights",
                    hint=f"store the argument as self.{name} in __init__",
                )
            continue
        value = getattr(module, name)
        if isinstance(value, torch.Tensor) or (value is None and isinstance(param.default, bool)):
            value = value is not None  # nn.Linear(bias=True) keeps bias as a Parameter (or None)
        try:
            kwargs[name] = _json_value(value)
        except TypeError as exc:
            raise InvalidInput(
                f"unsupported object: {where} ({cls.__qualname__}) argument {name!r} is a {exc}, "
                "not a number, string or list"
            ) from None
    return {"class": path, "args": [], "kwargs": kwargs}


def build(spec: Any, where: str = "model") -> Any:
    """The module ``spec`` describes, with fresh weights; InvalidInput for anything that is not a module."""
    import torch

    if not isinstance(spec, dict) or not isinstance(spec.get("class"), str) or ":" not in spec["class"]:
        raise InvalidInput(f"{SPEC_FILE}: {where} has no class written as 'module:Class'")
    module_name, _, qualname = spec["class"].partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(
            f"{SPEC_FILE}: {where}'s class {spec['class']} cannot be imported: {exc}"
        ) from None
    if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
        raise InvalidInput(f"{SPEC_FILE}: {where}'s class {spec['class']} is not a torch.nn.Module")
    args = [build(child, f"{where}[{i}]") for i, child in enumerate(spec.get("args", []))]
    kwargs = {k: _from_json(v) for k, v in dict(spec.get("kwargs", {})).items()}
    try:
        return obj(*args, **kwargs)
    except Exception as exc:
        raise InvalidInput(f"{SPEC_FILE}: {where} ({spec['class']}) cannot be built: {exc}") from None


class TorchModel:
    """A loaded module in eval mode: ``predict`` takes an array or a numeric table, gives a numpy array."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def predict(self, data: Any) -> Any:
        return FLAVOR.predict(self.module, data)


class TorchFlavor:
    """``torch.nn.Module``: weights as safetensors, the module rebuilt from a spec; nothing unpickled."""

    name = "torch"
    framework = "torch"
    model_file: Final = "model.safetensors"

    def accepts(self, model: Any) -> bool:
        torch = sys.modules.get("torch")  # never imported here: no torch, no module
        return torch is not None and isinstance(model, torch.nn.Module)

    def packages(self) -> list[str]:
        return ["torch", "safetensors", "numpy"]

    def predict(self, model: Any, data: Any) -> Any:
        """The module's output for ``data`` (float32 unless its first weight says otherwise), as numpy."""
        import numpy as np
        import torch

        first = next(model.parameters(), None)
        dtype = first.dtype if first is not None else torch.float32
        array = np.asarray(data.to_numpy() if hasattr(data, "to_numpy") else data)
        model.eval()
        with torch.no_grad():
            out = model(torch.as_tensor(array, dtype=dtype))
        return out.detach().cpu().numpy()

    def save(self, model: Any, folder: Path) -> str:
        from safetensors.torch import save_model

        spec = module_spec(model)
        save_model(model, str(folder / self.model_file))  # shared tensors stored once
        (folder / SPEC_FILE).write_text(json.dumps({"format": 1, "module": spec}, indent=2, sort_keys=True))
        return self.model_file

    def load(self, folder: Path, manifest: Manifest) -> Any:
        from safetensors.torch import load_model

        spec_path = folder / SPEC_FILE
        if SPEC_FILE not in manifest.files:
            raise InvalidInput(f"the torch package lacks {SPEC_FILE} (how to build the module)")
        try:
            spec = json.loads(spec_path.read_text())
        except ValueError as exc:
            raise InvalidInput(f"{SPEC_FILE} is not JSON: {exc}") from None
        module = build(spec.get("module") if isinstance(spec, dict) else None)
        try:
            load_model(module, str(folder / manifest.model_file), strict=True)
        except Exception as exc:  # missing or unexpected names, wrong shapes, a corrupt header
            raise InvalidInput(
                f"{manifest.model_file} does not fit the module {SPEC_FILE} describes: {exc}"
            ) from None
        module.eval()
        return TorchModel(module)


FLAVOR: Final = TorchFlavor()
