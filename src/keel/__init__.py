"""Keel: carry a model from a problem statement to a monitored production service.

The handful of objects a user meets first:

- :func:`init` / :func:`connect` give a :class:`Client`, local (a ``.keel/``
  workspace) or remote (a ``keel server``), with the same calls either way;
- ``client.projects`` states a problem, its objectives and :class:`KPI` s;
- :func:`evaluate_kpis` is the one verdict runs, gates and monitors share;
- every error Keel raises on purpose is a :class:`KeelError`.

Names load lazily (PEP 562), so ``import keel`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from keel.core.version import __version__

__all__ = [
    "KPI",
    "Client",
    "KeelError",
    "__version__",
    "client",
    "connect",
    "current_project",
    "evaluate_kpis",
    "init",
    "parse_kpi",
]

_LAZY = {
    "KPI": "keel.core.kpi",
    "Client": "keel.client",
    "KeelError": "keel.core.errors",
    "client": "keel.sdk",
    "connect": "keel.client",
    "current_project": "keel.sdk",
    "evaluate_kpis": "keel.core.kpi",
    "init": "keel.sdk",
    "parse_kpi": "keel.core.kpi",
}

if TYPE_CHECKING:
    from keel.client import Client, connect
    from keel.core.errors import KeelError
    from keel.core.kpi import KPI, evaluate_kpis, parse_kpi
    from keel.sdk import client, current_project, init


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'keel' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
