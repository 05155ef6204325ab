"""Data versioning (L2): datasets of tables and of files, immutable versions, profiles, diffs.

The map:

- :mod:`keel.data.service` (:class:`~keel.data.service.DataService`): the
  operations (add a version, ls, log, show, tag, diff, lineage, rm), exposed
  through REST and both SDK backends;
- :mod:`keel.data.build`: a path on disk -> objects in the artifact store plus
  schema, profile (``keel.stats``), Parquet copy and folder summary;
- :mod:`keel.data.diff` / :mod:`keel.data.rowdiff`: version diffs, keyed row
  diffs in bounded memory; :mod:`keel.data.pointer`: ``<path>.keel`` files.

The public calls ``keel.data.add(...)``, ``keel.data.get("churn-train@latest")``,
``keel.data.checkout(...)`` and friends need a client (local or remote), so
they live at the SDK layer in :mod:`keel.data_sdk`. This package forwards those
names to it on first use (PEP 562), so ``keel.data.add`` works however
``keel.data`` was first imported; the forward is by name only, so every static
import still points downward, as the layer contract requires.
"""

from __future__ import annotations

import importlib
from typing import Any, Final

#: The SDK calls reachable as ``keel.data.<name>``; they are defined in ``keel.data_sdk``.
SDK_NAMES: Final = (
    "VersionHandle",
    "add",
    "checkout",
    "diff",
    "get",
    "lineage",
    "log",
    "ls",
    "pull",
    "push",
    "rm",
    "show",
    "status",
    "tag",
)


def __getattr__(name: str) -> Any:
    if name in SDK_NAMES:
        return getattr(importlib.import_module("keel.data_sdk"), name)
    raise AttributeError(f"module 'keel.data' has no attribute {name!r}")
