"""``keel config``: see and set settings (flag > KEEL_* env > .keel/config.toml > default)."""

from __future__ import annotations

from typing import Annotated

import typer

from keel.cli import output
from keel.cli.state import settings

app = typer.Typer(
    help="Settings and where each value comes from.\n\nExample: keel config show --json",
    no_args_is_help=True,
)


@app.command("show")
def show(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show every setting, its value and where that value came from.

    Example: keel config show
    """
    rows = settings().show()
    if json_out:
        output.print_json(rows)
        return
    output.print_table(
        None,
        ["name", "value", "source", "env", "help"],
        [[r["name"], r["value"], r["source"], r["env"], r["help"]] for r in rows],
    )


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Setting name, as `keel config show` lists it.")],
    value: Annotated[str, typer.Argument(help="The value.")],
) -> None:
    """Write a setting into this workspace's .keel/config.toml.

    Example: keel config set server_port 5050
    """
    from keel.core.workspace import require_workspace, set_config_value

    home = require_workspace(settings())
    set_config_value(home, name, value)
    output.done(f"{name} = {value} in {home / 'config.toml'}")


@app.command("get")
def get(
    name: Annotated[str, typer.Argument(help="Setting name.")],
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the setting (value and source) as JSON.")
    ] = False,
) -> None:
    """Print one setting's value.

    Example: keel config get db_url
    """
    from keel.core.errors import ConfigError

    for row in settings().show():
        if row["name"] == name:
            if json_out:
                output.print_json(row)
                return
            typer.echo("" if row["value"] is None else row["value"])
            return
    raise ConfigError(f"unknown setting {name!r}", hint="see `keel config show`")
