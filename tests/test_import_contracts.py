"""The import-linter contracts cover every package: a capability added later must be listed in
the "forbidden" contracts too, or it could import keel.testing or a web/CLI library unnoticed."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "keel"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _layer_modules(layer: str) -> set[str]:
    return {part.strip().strip("()") for part in layer.replace("|", ":").split(":") if part.strip()}


def _existing(modules: set[str]) -> set[str]:
    """The modules of ``modules`` that exist in src/keel (optional layers may not yet)."""
    found = set()
    for module in modules:
        rel = Path(*module.split(".")[1:])
        if (PACKAGE / rel).is_dir() or (PACKAGE / rel).with_suffix(".py").is_file():
            found.add(module)
    return found


def _layers() -> list[set[str]]:
    return [_layer_modules(layer) for layer in _contracts()["Keel layers point downward"]["layers"]]


def test_every_layered_package_may_not_import_keel_testing() -> None:
    layered = _existing(set().union(*_layers()))
    sources = set(_contracts()["Nothing in keel imports keel.testing"]["source_modules"])
    assert layered - sources == set()


def test_every_package_below_the_web_layer_may_not_import_web_or_cli_libraries() -> None:
    layers = _layers()
    web = next(i for i, layer in enumerate(layers) if "keel.server" in layer)
    below = _existing(set().union(*layers[web + 1 :]))
    sources = set(_contracts()["No web or CLI library below L3"]["source_modules"])
    assert below - sources == set()
