"""The root group builds a noun's commands only when that noun is invoked, and still lists them all."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from keel.cli.lazy_group import GROUPS, LazyGroup
from keel.cli.main import app


def test_every_group_module_holds_a_typer_app() -> None:
    import importlib

    for name, module in GROUPS.items():
        assert isinstance(importlib.import_module(module).app, typer.Typer), name


def test_groups_are_built_on_lookup_only() -> None:
    root = typer.main.get_command(app)
    assert isinstance(root, LazyGroup)
    assert "data" not in root.commands  # not built until asked for
    ctx = typer.Context(root)
    assert set(GROUPS) <= set(root.list_commands(ctx))
    data = root.get_command(ctx, "data")
    assert data is not None and data.name == "data" and "status" in data.commands  # type: ignore[attr-defined]
    assert root.get_command(ctx, "no-such-noun") is None


def test_help_lists_every_group_and_unknown_nouns_are_usage_errors(keel_cli: Callable[..., Any]) -> None:
    shown = keel_cli("--help")
    assert shown.code == 0
    for name in GROUPS:
        assert f"\n  {name} " in shown.out, name
    wrong = keel_cli("dta", "ls")
    assert wrong.code == 2 and "No such command 'dta'" in wrong.err
    sub = keel_cli("data", "--help")
    assert sub.code == 0 and "keel data add" in sub.out
