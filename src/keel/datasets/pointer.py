"""Pointer files: ``<path>.keel`` beside the data, so git records which version the code used.

A pointer is a few lines of TOML naming the project, dataset, version number
and content digest. ``keel data checkout <path>.keel`` restores the data it
names; a pointer edited into nonsense is refused with the reason.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from keel.core.errors import InvalidInput

SUFFIX: Final = ".keel"
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DIGEST: Final = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Pointer:
    """What a pointer file records."""

    project: str
    dataset: str
    version: int
    digest: str
    path: str  # the data's name, relative to the pointer's folder

    @property
    def address(self) -> str:
        return f"{self.project}/{self.dataset}@v{self.version}"


def pointer_path(data: Path) -> Path:
    """Where the pointer of ``data`` goes: ``data/images/`` -> ``data/images.keel``."""
    data = Path(str(data).rstrip("/\\") or ".")
    return data.with_name(data.name + SUFFIX)


def data_path(pointer_file: Path, pointer: Pointer) -> Path:
    """The data a pointer describes, beside it."""
    return pointer_file.parent / pointer.path


def write_pointer(data: Path, pointer: Pointer) -> Path:
    """Write (or replace) the pointer beside ``data``; returns its path."""
    target = pointer_path(data)
    text = (
        "# Keel data pointer: `keel data checkout " + target.name + "` restores this version.\n"
        f'project = "{pointer.project}"\n'
        f'dataset = "{pointer.dataset}"\n'
        f"version = {pointer.version}\n"
        f'digest = "{pointer.digest}"\n'
        f'path = "{pointer.path}"\n'
    )
    temp = target.with_name(target.name + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(target)
    return target


def read_pointer(path: Path) -> Pointer:
    """Parse a pointer file; InvalidInput naming the file and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"pointer file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, IsADirectoryError) as exc:
        raise InvalidInput(f"pointer file {path} is not valid: {exc}") from None
    problems = []
    for field, pattern in (("project", _NAME), ("dataset", _NAME), ("digest", _DIGEST)):
        value = data.get(field)
        if not isinstance(value, str) or not pattern.match(value):
            problems.append(f"{field} is missing or malformed")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("version must be a positive whole number")
    rel = data.get("path")
    if not isinstance(rel, str) or not rel or "/" in rel or "\\" in rel or rel in (".", ".."):
        problems.append("path must be the name of the data beside the pointer")
    if problems:
        raise InvalidInput(
            f"pointer file {path} is not valid: " + "; ".join(problems),
            hint="restore it from git, or write a new one with `keel data add`",
        )
    return Pointer(data["project"], data["dataset"], int(version), data["digest"], rel)  # type: ignore[arg-type]
