"""PEP 562 lazy public names, written once for every package that exports them.

A package lists ``name -> module`` and gets a module ``__getattr__`` that
imports the module on first access and caches the value in the package's
globals, so importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, names: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that loads ``names[name]`` on first use."""

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(module)
        # A public name may be a subpackage itself (``keel.data``): then the value is the module.
        value = loaded if module == f"{package}.{name}" else getattr(loaded, name)
        namespace[name] = value
        return value

    return __getattr__
