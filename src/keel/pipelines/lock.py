"""``keel.lock``: each step's inputs' and outputs' digests, a file for git (as ``dvc.lock`` is).

One file holds every pipeline run from its folder, keyed by pipeline name,
sorted, YAML, so a re-run that changed nothing rewrites the same bytes and
git shows no diff; a change shows as the lines of the steps it touched.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from keel.core.errors import InvalidInput

SCHEMA = "keel-lock/1"

# libyaml's C loader and dumper where PyYAML has them: the pure-Python parser spends seconds on a
# 100-step lock, more than the cached re-run it serves.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def read_lock(path: Path) -> dict[str, Any]:
    """The lock file's content, or an empty one; a file that is not a Keel lock is refused."""
    if not path.exists():
        return {"schema": SCHEMA, "pipelines": {}}
    try:
        data = yaml.load(path.read_text(), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path} is not valid YAML: {exc}") from exc
    if (
        not isinstance(data, dict)
        or data.get("schema") != SCHEMA
        or not isinstance(data.get("pipelines"), dict)
    ):
        raise InvalidInput(f"{path} is not a Keel lock file (schema {SCHEMA})")
    return data


def locked_steps(data: Mapping[str, Any], pipeline: str) -> dict[str, dict[str, Any]]:
    """``pipeline``'s step entries in a lock file's content (those that are well formed)."""
    entry = data.get("pipelines", {}).get(pipeline, {})
    steps = entry.get("steps", {}) if isinstance(entry, dict) else {}
    if not isinstance(steps, dict):
        return {}
    return {str(k): v for k, v in steps.items() if isinstance(v, dict) and v.get("key")}


def locked_keys(path: Path, pipeline: str) -> list[str]:
    """The cache keys the lock file holds for ``pipeline`` (none if there is no usable lock)."""
    try:
        steps = locked_steps(read_lock(path), pipeline)
    except InvalidInput:
        return []
    return [str(e["key"]) for e in steps.values()]


def write_lock(
    path: Path, pipeline: str, steps: Mapping[str, Mapping[str, Any]], data: dict[str, Any] | None = None
) -> None:
    """Replace ``pipeline``'s entry in the lock file at ``path`` (atomically), keeping the others.

    ``data`` is the file's content as read at the start of the run (read again when not given).
    """
    data = read_lock(path) if data is None else data
    data["pipelines"][pipeline] = {"steps": {name: dict(entry) for name, entry in steps.items()}}
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
    if path.exists() and path.read_text() == text:
        return  # unchanged: leave the file (and its mtime) alone
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
