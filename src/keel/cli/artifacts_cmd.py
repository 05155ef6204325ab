"""``keel artifacts``: put files and folders into the content-addressed store, get them back, check, move, collect.

Locally the commands work on the workspace's store directly (reflinks, stat
cache); against a server (``KEEL_SERVER_URL``) put, get, ls-tree, ls and rm go
through the artifact operations, streamed. push and pull move objects between
this machine's store and a named remote (``keel remote add``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client, settings

app = typer.Typer(
    help="Artifacts: content-addressed files and folders (BLAKE3).\n\nExample: keel artifacts put model.bin",
    no_args_is_help=True,
)

ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project", "-p", help="The project that references the objects (default: the project setting)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
#: A zero grace period (collect even brand-new objects), which durations elsewhere never mean.
_NO_GRACE = re.compile(r"^\s*0+\s*[smhdw]?\s*$")


def grace_seconds(text: str) -> float:
    """``--grace`` as seconds: a duration as ``keel.auth.durations`` reads them (30m, 24h, 7d), or 0 for none."""
    from keel.auth.durations import parse_duration

    if _NO_GRACE.match(text):
        return 0.0
    return parse_duration(text, what="--grace").total_seconds()


def _local(c: Any) -> Any:
    """The local backend's context, or None when talking to a server."""
    return None if c.is_remote else c.backend


def _local_store() -> Any:
    from keel.core.errors import InvalidInput

    c = client()
    if c.is_remote:
        raise InvalidInput(
            "push, pull and fsck of a remote work on this machine's store, but KEEL_SERVER_URL points at a server",
            hint="unset KEEL_SERVER_URL to use the local workspace",
        )
    return c.backend.ctx


@app.command("put")
def put(
    path: Annotated[Path, typer.Argument(help="A file, or a folder (stored as one tree).")],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Store a file or folder and print its digest; the project references it until `keel artifacts rm`.

    Example: keel artifacts put ./images/ --project churn
    """
    from keel.artifact_service.service import ArtifactService

    name = _project(project)
    c = client()
    with output.progress(f"put {path}", enabled=not json_out) as progress:
        local = _local(c)
        if local is not None:
            result = local.service(ArtifactService).put_path(name, path, progress=progress)
        else:
            from keel.artifact_service.paths import upload_path
            from keel.core.operations import ByteStream

            result = upload_path(
                path,
                exists=lambda digests: c.artifacts.exists(project=name, digests=digests),
                upload=lambda chunks, tree: c.artifacts.upload(
                    project=name, data=ByteStream(chunks), tree=tree
                ),
                progress=progress,
            )
    if json_out:
        output.print_json(result)
    else:
        typer.echo(result.digest)


@app.command("get")
def get(
    digest: Annotated[str, typer.Argument(help="The object's or tree's digest (64 hex characters).")],
    dest: Annotated[Path, typer.Argument(help="The file to write (a folder, for a tree).")],
    project: ProjectOpt = None,
    include: Annotated[
        str | None, typer.Option("--include", help="Only a tree's files matching this glob, e.g. 'train/*'.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that exist already.")] = False,
    hardlink: Annotated[
        bool,
        typer.Option(
            "--hardlink",
            help="Hard-link the store's objects instead of copying (local store, same file system; "
            "editing a linked file in place would corrupt the store).",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write an object to a file, or a tree into a folder; every byte is verified, and a tree lands whole or not at all.

    Example: keel artifacts get 3f0a...e1 out.bin
    """
    from keel.artifacts.digest import check_digest
    from keel.core.errors import Conflict, InvalidInput

    check_digest(digest)

    def report(files: int | None) -> None:
        if json_out:
            output.print_json(
                {"digest": digest, "dest": str(dest), "tree": files is not None, "files": files or 1}
            )
        elif files is None:
            output.done(f"wrote {dest}")
        else:
            output.done(f"wrote {files} file(s) under {dest}")

    c = client()
    local = _local(c)
    if local is not None:
        store = local.ctx.artifacts
        if store.is_tree(digest):
            written = store.checkout_tree(digest, dest, include=include, force=force, hardlink=hardlink)
            report(written)
            return
        if dest.exists() and not dest.is_dir() and not force:
            raise Conflict(f"{dest} exists already", hint="pass --force to overwrite it")
        store.get_file(digest, dest, hardlink=hardlink)
        report(None)
        return
    if hardlink:
        raise InvalidInput(
            "--hardlink links a local store's objects, but KEEL_SERVER_URL points at a server",
            hint="drop --hardlink (files are downloaded and verified)",
        )
    from keel.artifact_service.paths import download_tree, download_verified
    from keel.artifacts.files import write_verified

    name = _project(project)
    stat = c.artifacts.stat(project=name, digest=digest)

    def intact(d: str) -> bool:
        return bool(c.artifacts.stat(project=name, digest=d, verify=True).intact)

    def download(d: str) -> Any:
        return download_verified(d, lambda x: c.artifacts.download(project=name, digest=x), intact)

    if stat.tree:
        with output.progress(f"get {digest[:12]}", enabled=not json_out) as progress:
            written = download_tree(
                digest, dest, download=download, include=include, force=force, progress=progress
            )
        report(written)
        return
    if dest.exists() and not dest.is_dir() and not force:
        raise Conflict(f"{dest} exists already", hint="pass --force to overwrite it")
    write_verified(download(digest), digest, dest)
    report(None)


@app.command("ls-tree")
def ls_tree(
    digest: Annotated[str, typer.Argument(help="The tree's digest.")],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List a tree's files: path, size, mode and digest.

    Example: keel artifacts ls-tree 3f0a...e1 --json
    """
    from keel.artifacts.digest import check_digest

    check_digest(digest)
    c = client()
    local = _local(c)
    if local is not None:
        entries = local.ctx.artifacts.read_tree(digest)
    else:
        entries = c.artifacts.ls_tree(project=_project(project), digest=digest)
    if json_out:
        output.print_json(entries)
        return
    output.print_table(
        None, ["path", "size", "mode", "digest"], [[e.path, e.size, f"{e.mode:o}", e.digest] for e in entries]
    )


@app.command("ls")
def ls(project: ProjectOpt = None, json_out: JsonOpt = False) -> None:
    """List the objects a project references.

    Example: keel artifacts ls --project churn --json
    """
    c = client()
    name = _project(project)
    items: list[Any] = []
    token = None
    while True:
        page = c.artifacts.refs(project=name, limit=1000, page_token=token)
        items.extend(page.items)
        token = page.next_token
        if not token:
            break
    if json_out:
        output.print_json(items)
        return
    output.print_table(
        None, ["digest", "since"], [[r.digest, f"{r.created_at:%Y-%m-%d %H:%M}"] for r in items]
    )


@app.command("rm")
def rm(
    digest: Annotated[str, typer.Argument(help="The digest the project should stop referencing.")],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Drop the project's reference to an object; `keel artifacts gc` then reclaims it if nothing else holds it.

    Example: keel artifacts rm 3f0a...e1 --project churn
    """
    from keel.artifacts.digest import check_digest

    check_digest(digest)
    name = _project(project)
    client().artifacts.remove(project=name, digest=digest)
    if json_out:
        output.print_json({"project": name, "removed": digest})
        return
    output.done(f"project no longer references {digest}")


@app.command("fsck")
def fsck(json_out: JsonOpt = False) -> None:
    """Verify every object's digest and every tree's entries; exit 1 and name the bad ones if any.

    Example: keel artifacts fsck
    """
    report = client().artifacts.fsck()
    if json_out:
        output.print_json(
            {"ok": not report.corrupt and not report.bad_trees, **output.to_plain(vars(report))}
        )
    else:
        for digest in report.corrupt:
            typer.echo(f"corrupt object {digest}", err=True)
        for digest, problem in report.bad_trees.items():
            typer.echo(f"bad tree {digest}: {problem}", err=True)
        summary = f"checked {report.objects} object(s), {report.trees} tree(s), {report.bytes} bytes"
        if report.corrupt or report.bad_trees:
            typer.echo(
                f"{summary}: {len(report.corrupt)} corrupt, {len(report.bad_trees)} bad tree(s)", err=True
            )
        else:
            output.done(f"{summary}: all good")
    if report.corrupt or report.bad_trees:
        raise typer.Exit(1)


@app.command("gc")
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only report what would be deleted.")] = False,
    grace: Annotated[
        str, typer.Option("--grace", help="Spare objects younger than this (30m, 24h, 7d; 0 for none).")
    ] = "24h",
    json_out: JsonOpt = False,
) -> None:
    """Delete objects that no reference (and no referenced tree) reaches, sparing young ones.

    Example: keel artifacts gc --dry-run
    """
    report = client().artifacts.gc(grace_s=grace_seconds(grace), dry_run=dry_run)
    if json_out:
        output.print_json(vars(report))
        return
    verb = "would delete" if dry_run else "deleted"
    output.done(
        f"{verb} {report.deleted} object(s) ({report.freed_bytes} bytes); kept {report.live} referenced, "
        f"spared {report.spared} younger than {grace}"
    )


def _remote_store(name: str) -> Any:
    from keel.artifacts.remotes import get_remote, open_remote

    s = settings()
    return open_remote(get_remote(s.config_tables, name))


@app.command("push")
def push(
    remote: Annotated[str, typer.Argument(help="A remote's name (see `keel remote ls`).")],
    digests: Annotated[
        list[str] | None, typer.Argument(help="Objects or trees to push (default: every object).")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Objects moved at once.")] = 8,
    json_out: JsonOpt = False,
) -> None:
    """Copy the objects the remote lacks to it, in parallel; run again to resume after an interruption.

    Example: keel artifacts push origin
    """
    from keel.artifacts.transfer import transfer

    ctx = _local_store()
    dst = _remote_store(remote)
    with output.progress(f"push to {remote}", enabled=not json_out) as progress:
        report = transfer(ctx.artifacts, dst, digests or None, workers=jobs, progress=progress)
    if json_out:
        output.print_json(vars(report))
    else:
        output.done(f"pushed {report.moved} object(s), {report.bytes} bytes; {report.present} already there")


@app.command("pull")
def pull(
    remote: Annotated[str, typer.Argument(help="A remote's name (see `keel remote ls`).")],
    digests: Annotated[
        list[str], typer.Argument(help="Objects or trees to fetch (a tree brings its files).")
    ],
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Objects moved at once.")] = 8,
    json_out: JsonOpt = False,
) -> None:
    """Fetch objects (and trees' files) this machine lacks from a remote; run again to resume.

    Example: keel artifacts pull origin 3f0a...e1
    """
    from keel.artifacts.transfer import transfer

    ctx = _local_store()
    src = _remote_store(remote)
    with output.progress(f"pull from {remote}", enabled=not json_out) as progress:
        report = transfer(src, ctx.artifacts, digests, workers=jobs, progress=progress)
    if json_out:
        output.print_json(vars(report))
    else:
        output.done(f"pulled {report.moved} object(s), {report.bytes} bytes; {report.present} already here")
