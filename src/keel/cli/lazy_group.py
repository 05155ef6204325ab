"""The root command group, whose noun groups are imported only when invoked.

Typer builds a click command for every command of every group before it
parses anything: 60-odd signatures evaluated on each call, plus the import of
every ``*_cmd`` module. ``keel data status`` should pay only for ``keel data``,
so the root lists its groups by module path and builds one when click asks
for it (a ``--help`` that lists them all still builds them all).
"""

from __future__ import annotations

import importlib
from typing import Any, ClassVar

import typer
from typer.core import TyperGroup

#: ``keel <name>`` -> the module whose ``app`` (a Typer) holds that group's commands.
GROUPS: dict[str, str] = {
    "project": "keel.cli.project_cmd",
    "config": "keel.cli.config_cmd",
    "db": "keel.cli.db_cmd",
    "artifacts": "keel.cli.artifacts_cmd",
    "remote": "keel.cli.remote_cmd",
    "data": "keel.cli.data_cmd",
    "run": "keel.cli.run_cmd",
    "model": "keel.cli.model_cmd",
    "user": "keel.cli.user_cmd",
    "role": "keel.cli.role_cmd",
    "token": "keel.cli.token_cmd",
    "audit": "keel.cli.audit_cmd",
    "pipeline": "keel.cli.pipeline_cmd",
    "deploy": "keel.cli.deploy_cmd",
    "serve": "keel.cli.serve_cmd",
    "predictions": "keel.cli.predictions_cmd",
    "monitor": "keel.cli.monitor_cmd",
}


def build_group(name: str, module: str) -> Any:
    """The click group for one noun, built the way ``add_typer`` would (same help, same settings)."""
    loaded = importlib.import_module(module)
    if getattr(loaded, "SINGLE_COMMAND", False):  # ``keel serve NAME``: one command, not a group
        command = typer.main.get_command(loaded.app)
        command.name = name
        return command
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    holder.add_typer(loaded.app, name=name)
    return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]


class LazyGroup(TyperGroup):
    """A TyperGroup that adds the groups of :data:`GROUPS` on first lookup."""

    lazy: ClassVar[dict[str, str]] = GROUPS

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = build_group(cmd_name, self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)
