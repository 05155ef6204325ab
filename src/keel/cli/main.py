"""The ``keel`` command: the root, its global options, and error handling."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from keel.cli import login_cmd, workspace_cmd
from keel.cli.lazy_group import LazyGroup
from keel.cli.state import STATE

app = typer.Typer(
    name="keel",
    help="Keel: from a problem statement to a monitored model in production.\n\nExample: keel quickstart",
    cls=LazyGroup,  # the noun groups (keel data, keel run, ...) load when invoked
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
workspace_cmd.register(app)
login_cmd.register(app)


def _version(value: bool) -> None:
    if value:
        from keel.core.version import __version__

        typer.echo(f"keel {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    config: Annotated[
        list[str] | None,
        typer.Option(
            "-c",
            "--config",
            metavar="NAME=VALUE",
            help="Set a setting for this command: -c name=value (repeatable).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Keel: from a problem statement to a monitored model in production."""
    STATE.debug = debug
    STATE.overrides = {}
    STATE.server_url = None
    for item in config or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"expected name=value, got {item!r}", param_hint="-c")
        STATE.overrides[name.strip()] = value


#: The root's options that take a value; they may follow the subcommand too (``keel run ls -c project=x``).
_GLOBAL_WITH_VALUE = ("-c", "--config")


def hoist_global_options(args: list[str]) -> list[str]:
    """Move the root's options (``--debug``, ``-c NAME=VALUE``) to the front, wherever they were given.

    Click accepts a group's options only before its subcommand, but users type
    ``keel quickstart --debug`` (the error hint even suggests it). Nothing after
    ``--`` moves, and no subcommand defines these names, so moving them changes
    no other option's meaning.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg == "--debug":
            front.append(arg)
        elif arg in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        elif arg.startswith("--config=") or (arg.startswith("-c") and len(arg) > 2):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def not_a_keel_server(url: str, exc: Exception) -> Exception | None:
    """A clear error when ``url`` (KEEL_SERVER_URL) is not a Keel server, else None.

    Only after a command failed, so a working command pays nothing; the probe
    is the SDK's own (``keel.client.probe``), which the remote backend also
    asks when an answer is not one a Keel server gives.
    """
    from keel.client.probe import not_a_keel_server as probe
    from keel.core.errors import ConfigError, ServerUnreachable

    if isinstance(exc, ServerUnreachable | ConfigError):
        return None
    return probe(url)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning KeelError into one line and an exit code."""
    args = hoist_global_options(sys.argv[1:] if argv is None else list(argv))
    debug = "--debug" in args
    try:
        rc = app(args=args, prog_name="keel", standalone_mode=False)
        if isinstance(rc, int) and rc:
            sys.exit(rc)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("keel: aborted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("keel: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if isinstance(exc, typer.TyperException):  # usage errors (Typer vendors Click)
            show = getattr(exc, "show", None)
            if show is not None:
                show()
            no_args_help = type(exc).__name__ == "NoArgsIsHelpError"
            sys.exit(0 if no_args_help else int(getattr(exc, "exit_code", 2)))
        from keel.core.errors import KeelError

        if debug or STATE.debug:
            import traceback

            traceback.print_exc()
        if isinstance(exc, KeelError) and STATE.server_url:
            exc = not_a_keel_server(STATE.server_url, exc) or exc
        if isinstance(exc, KeelError):
            sys.stderr.write(f"keel: error: {exc.one_line()}\n")
            if exc.hint:
                sys.stderr.write(f"  hint: {exc.hint}\n")
            sys.exit(exc.exit_code)
        sys.stderr.write(f"keel: error: internal error: {exc.__class__.__name__}: {exc}\n")
        sys.stderr.write("  hint: run again with --debug for the traceback, and report it\n")
        sys.exit(3)


if __name__ == "__main__":
    main()
