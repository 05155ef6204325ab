"""docs/glossary.md names only what exists: a rename that forgets the glossary fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"


def _code_column_names() -> list[str]:
    names = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and not set(cells[2]) <= {"-"}:
            names += re.findall(r"`([^`]+)`", cells[2])
    return names


def _classes() -> set[str]:
    found: set[str] = set()
    for path in (SRC / "keel").rglob("*.py"):
        found |= set(re.findall(r"^class (\w+)", path.read_text(encoding="utf-8"), re.MULTILINE))
    return found


def _module_file(dotted: str) -> Path | None:
    base = SRC.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def _resolves(dotted: str) -> bool:
    """A module (``keel.core.refs``), or a name one defines or imports at its top (``keel.sdk.Run``)."""
    if _module_file(dotted) is not None:
        return True
    module, _, attr = dotted.rpartition(".")
    path = _module_file(module)
    pattern = rf"^((class |def )?{attr}\b|from .* import .*\b{attr}\b)"
    return path is not None and re.search(pattern, path.read_text(encoding="utf-8"), re.MULTILINE) is not None


def test_every_module_and_class_the_glossary_names_exists() -> None:
    classes = _classes()
    checked = 0
    for name in _code_column_names():
        if re.fullmatch(r"keel(\.\w+)+", name):
            assert _resolves(name), f"docs/glossary.md names {name}, which does not exist"
            checked += 1
        elif re.fullmatch(r"[A-Z]\w+", name) and name not in ("SETTINGS",):
            assert name in classes, f"docs/glossary.md names {name}, which no module defines"
            checked += 1
    assert checked > 20
