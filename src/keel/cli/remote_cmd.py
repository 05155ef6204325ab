"""``keel remote``: named artifact remotes (a folder, s3://bucket/prefix, any fsspec URL) in config.toml.

Credentials are never written: they come from the environment or a profile.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import settings

app = typer.Typer(
    help="Artifact remotes for push and pull.\n\nExample: keel remote add origin s3://bucket/keel",
    no_args_is_help=True,
)


def _home() -> Any:
    from keel.core.workspace import require_workspace

    return require_workspace(settings())


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The remote's name, e.g. origin.")],
    url: Annotated[str, typer.Argument(help="A folder, s3://bucket/prefix, or another fsspec URL.")],
    endpoint_url: Annotated[
        str | None, typer.Option("--endpoint-url", help="S3-compatible endpoint (MinIO, Ceph, moto...).")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="S3 region.")] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile holding the credentials.")
    ] = None,
    anon: Annotated[bool, typer.Option("--anon", help="Anonymous access (public buckets).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a remote of the same name.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Add a named remote to the workspace's config.toml.

    Example: keel remote add origin s3://bucket/keel --endpoint-url http://127.0.0.1:9000
    """
    from keel.artifacts.remotes import add_remote

    options: dict[str, Any] = {}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if region:
        options["region"] = region
    if profile:
        options["profile"] = profile
    if anon:
        options["anon"] = True
    remote = add_remote(_home(), name, url, options, replace=force)
    if json_out:
        from keel.artifacts.remotes import describe

        output.print_json(describe(remote))
        return
    output.done(f"added remote {remote.name} -> {remote.url}")


@app.command("ls")
def ls(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the named remotes (URLs and options; never credentials).

    Example: keel remote ls --json
    """
    from keel.artifacts.remotes import describe, remotes_from

    _home()
    rows = [describe(r) for r in remotes_from(settings().config_tables).values()]
    if json_out:
        output.print_json(rows)
        return
    output.print_table(
        None,
        ["name", "url", "options"],
        [
            [r["name"], r["url"], ", ".join(f"{k}={v}" for k, v in r.items() if k not in ("name", "url"))]
            for r in rows
        ],
    )


@app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="The remote to forget (its objects stay where they are).")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remove a named remote from config.toml.

    Example: keel remote rm origin
    """
    from keel.artifacts.remotes import remove_remote

    remove_remote(_home(), name)
    if json_out:
        output.print_json({"removed": name})
        return
    output.done(f"removed remote {name}")
