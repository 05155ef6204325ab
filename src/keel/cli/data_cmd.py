"""``keel data``: version tables and folders of files; profile, diff, check out, push and pull."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import client

app = typer.Typer(
    help="Data versioning: datasets of tables and files.\n\nExample: keel data add data/customers.parquet --name churn-train",
    no_args_is_help=True,
)

ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the project setting).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _ctx(project: str | None) -> tuple[Any, str | None]:
    c = client()
    return c, project or (c.settings.project if c.settings else None)


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


@app.command("add")
def add(
    path: Annotated[str, typer.Argument(help="A table file (CSV, Parquet, JSON lines) or a folder.")],
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Dataset name (default: the file's stem).")
    ] = None,
    message: Annotated[str, typer.Option("--message", "-m", help="What this version is.")] = "",
    kind: Annotated[str | None, typer.Option("--kind", help="table or files (default: guessed).")] = None,
    parent: Annotated[
        list[str] | None, typer.Option("--parent", help="A version this one was made from (repeatable).")
    ] = None,
    no_pointer: Annotated[bool, typer.Option("--no-pointer", help="Do not write <path>.keel.")] = False,
    require_valid: Annotated[
        str | None,
        typer.Option(
            "--require-valid", help="A suite's YAML: refuse (exit 1, no version) a table that fails it."
        ),
    ] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Version a file or folder; identical content makes no new version.

    Example: keel data add data/customers.parquet --name churn-train -m "October export"
    """
    from keel.core.errors import InvalidInput
    from keel.data import add as add_data

    if kind not in (None, "table", "files"):
        raise InvalidInput(f"--kind must be table or files, got {kind!r}")
    c, proj = _ctx(project)
    with output.progress(f"hashing {path}", enabled=not json_out) as progress:
        added = add_data(
            path,
            name,
            message=message,
            kind=kind,  # type: ignore[arg-type]
            project=proj,
            pointer=not no_pointer,
            parents=parent or [],
            progress=progress,
            client=c,
            require_valid=require_valid,
        )
    if json_out:
        pointer_text = str(added.pointer) if added.pointer else None
        output.print_json({"created": added.created, "pointer": pointer_text, "version": added.version})
        return
    if added.created:
        v = added.version
        what = f"{v.rows:,} rows x {len(v.columns)} columns" if v.kind == "table" else f"{v.files:,} files"
        output.done(f"{v.dataset}@v{v.number}: {what}, {_size(v.size)} (digest {v.digest[:12]})")
    else:
        h = added.head
        output.done(f"unchanged: {path} is already {h.dataset}@v{h.number}; no new version")
    if added.pointer:
        output.line(f"  pointer: {added.pointer}")


@app.command("status")
def status(
    path: Annotated[
        str | None,
        typer.Argument(help="The file or folder to compare (default: every tracked path of the workspace)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Dataset (default: from <path>.keel).")
    ] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show what changed on disk since the latest version (unchanged files are only stat'ed).

    With no path, every pointer file under the workspace's folder is checked, in one process.

    Example: keel data status data/images/
    """
    from keel.data import status as data_status

    c, proj = _ctx(project)
    if path is None:
        if name is not None:
            from keel.core.errors import InvalidInput

            raise InvalidInput("--name needs a path: keel data status PATH --name DATASET")
        _status_all(c, json_out)
        return
    result = data_status(path, name, project=proj, client=c)
    if json_out:
        output.print_json(
            {
                "path": str(result.path),
                "version": result.head.address,
                "clean": result.clean,
                "changes": result.changes,
            }
        )
        return
    if result.clean:
        output.done(f"{path} matches {result.head.address}")
        return
    counts = {k: sum(1 for ch in result.changes if ch.change == k) for k in ("added", "modified", "removed")}
    output.console().print(
        f"{path} differs from {result.head.address}: "
        f"{counts['added']} added, {counts['modified']} modified, {counts['removed']} removed",
        highlight=False,
    )
    for change in result.changes[:50]:
        output.console().print(f"  {change.change:9} {change.path}", highlight=False)
    if len(result.changes) > 50:
        output.console().print(f"  ... and {len(result.changes) - 50} more (--json lists all)")


def _status_all(c: Any, json_out: bool) -> None:
    from keel.data import status_all

    found = status_all(client=c)
    if json_out:
        output.print_json(
            [
                {
                    "pointer": str(t.pointer),
                    "path": str(t.path),
                    "version": t.address,
                    "state": t.state,
                    "changes": t.status.changes if t.status else [],
                }
                for t in found
            ]
        )
        return
    if not found:
        output.line("no tracked paths (no *.keel pointer files) in this workspace's folder")
        return
    notes = {
        "clean": "matches",
        "changed": "differs from",
        "missing": "is not checked out; keel data checkout {pointer}",
        "unknown": "is unknown here; keel data pull",
    }
    for t in found:
        note = notes[t.state].format(pointer=t.pointer)
        extra = f" ({len(t.status.changes)} change(s))" if t.status and t.status.changes else ""
        output.line(f"{t.state:8} {t.path} {note} {t.address}{extra}")


@app.command("ls")
def ls(project: ProjectOpt = None, json_out: JsonOpt = False) -> None:
    """List the project's datasets.

    Example: keel data ls --json
    """
    from keel.data import ls as data_ls

    c, proj = _ctx(project)
    items = data_ls(project=proj, client=c).items
    if json_out:
        output.print_json(items)
        return
    output.print_table(
        None,
        ["name", "kind", "versions", "latest", "tags", "created"],
        [
            [
                d.name,
                d.kind,
                d.versions,
                f"v{d.latest}" if d.latest else "",
                ", ".join(sorted(d.tags)),
                f"{d.created_at:%Y-%m-%d}",
            ]
            for d in items
        ],
    )


def _show_version(v: Any) -> None:
    con = output.console()
    con.print(f"[bold]{v.address}[/bold]  {v.kind}  [dim]{v.digest}[/dim]", highlight=False)
    tags = f"   tags: {', '.join(v.tags)}" if v.tags else ""
    con.print(
        f"  {v.message or '(no message)'}  — {v.author}, {v.created_at:%Y-%m-%d %H:%M} UTC{tags}",
        highlight=False,
    )
    con.print(f"  {v.files:,} file(s), {_size(v.size)}; source {v.source_name} ({v.format})", highlight=False)
    if v.parents:
        con.print(f"  derived from: {', '.join(v.parents)}", highlight=False)
    if v.profile:
        con.print(
            f"  {v.rows:,} rows; profile from a {v.profile.sample_rows:,}-row sample for quantiles",
            highlight=False,
        )
        rows = []
        for col in v.profile.columns:
            spread = ""
            if col.mean is not None:
                spread = f"mean {col.mean:.4g} sd {col.std:.4g}"
            elif col.categories:
                top = list(col.categories.items())[:3]
                spread = ", ".join(f"{k} {n}" for k, n in top)
            rows.append(
                [
                    col.name,
                    col.type,
                    col.nulls,
                    ("" if col.distinct_exact else "~") + str(col.distinct),
                    "" if col.min is None else str(col.min),
                    "" if col.max is None else str(col.max),
                    spread,
                ]
            )
        output.print_table(
            None, ["column", "type", "nulls", "distinct", "min", "max", "mean / top values"], rows
        )
    else:
        output.print_table(
            None,
            ["type", "files", "size", "image sizes"],
            [
                [
                    s.extension,
                    s.files,
                    _size(s.size),
                    f"{s.width_min}-{s.width_max} x {s.height_min}-{s.height_max} ({s.images_measured} measured)"
                    if s.images_measured
                    else "",
                ]
                for s in v.summary
            ],
        )


@app.command("show")
def show(
    address: Annotated[
        str, typer.Argument(help="name@v3, name@latest, name@<tag>, project/name@v3 or a .keel file.")
    ],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show a version: schema, rows, per-column profile or file summary, digest.

    Example: keel data show churn-train@v1 --json
    """
    from keel.data import show as data_show

    c, proj = _ctx(project)
    v = data_show(address, project=proj, client=c)
    if json_out:
        output.print_json(v)
    else:
        _show_version(v)


@app.command("log")
def log(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List a dataset's versions, newest first.

    Example: keel data log churn-train
    """
    from keel.data import log as data_log

    c, proj = _ctx(project)
    versions = data_log(name, project=proj, client=c).items
    if json_out:
        output.print_json(versions)
        return
    output.print_table(
        None,
        ["version", "created", "author", "rows / files", "size", "tags", "message"],
        [
            [
                f"v{v.number}",
                f"{v.created_at:%Y-%m-%d %H:%M}",
                v.author,
                f"{v.rows:,} rows" if v.rows is not None else f"{v.files:,} files",
                _size(v.size),
                ", ".join(v.tags),
                v.message,  # folded by the table, never cut
            ]
            for v in versions
        ],
    )


@app.command("diff")
def diff(
    before: Annotated[str, typer.Argument(help="The older version, e.g. churn-train@v1.")],
    after: Annotated[str, typer.Argument(help="The newer version, e.g. churn-train@v2.")],
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="Key column(s), comma-separated: adds a row diff.")
    ] = None,
    examples: Annotated[int, typer.Option("--examples", help="Example rows to show per kind of change.")] = 5,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Compare two versions: files, schema, row counts, column statistics; rows with --key.

    Example: keel data diff churn-train@v1 churn-train@v2 --key customer_id
    """
    from keel.data import diff as data_diff

    c, proj = _ctx(project)
    keys = [k.strip() for k in key.split(",") if k.strip()] if key else None
    result = data_diff(before, after, key=keys, examples=examples, project=proj, client=c)
    if json_out:
        output.print_json(result)
        return
    con = output.console()
    if result.same_content:
        con.print(f"{result.before} and {result.after} have the same content")
        return
    con.print(
        f"{result.before} -> {result.after}: files +{result.files_added} -{result.files_removed} ~{result.files_modified}",
        highlight=False,
    )
    if result.rows_before is not None or result.rows_after is not None:
        con.print(f"  rows: {result.rows_before:,} -> {result.rows_after:,}", highlight=False)
    for change in result.schema_changes:
        con.print(
            f"  schema: {change.column} {change.change} {change.before or ''} -> {change.after or ''}",
            highlight=False,
        )
    if result.column_deltas:
        rows = []
        for delta in result.column_deltas:
            for d in delta.deltas:
                if d.stat in ("count", "nulls", "distinct", "mean", "std", "min", "max", "null_fraction"):
                    moved = "" if d.change is None else f"{d.change:+.4g}"
                    rows.append([delta.column, d.stat, _short(d.before), _short(d.after), moved])
        output.print_table("column statistics", ["column", "stat", "before", "after", "change"], rows)
    if result.rows:
        r = result.rows
        con.print(
            f"  rows by {', '.join(r.key)}: {r.added:,} added, {r.removed:,} removed, {r.changed:,} changed, {r.unchanged:,} unchanged",
            highlight=False,
        )
        for ch in r.changed_examples:
            cols = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in ch.columns.items())
            con.print(f"    changed {ch.key}: {cols}", highlight=False)
    for fc in result.files[:50]:
        con.print(f"  {fc.change:9} {fc.path}", highlight=False)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)  # a long value folds in the table; it is never cut


@app.command("checkout")
def checkout(
    target: Annotated[str, typer.Argument(help="A version (name@v3) or a pointer file (data/images.keel).")],
    dest: Annotated[
        str | None, typer.Argument(help="Folder to write into (default: beside the pointer).")
    ] = None,
    include: Annotated[str | None, typer.Option("--include", help="Only files matching this glob.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty folder, overwriting.")
    ] = False,
    hardlink: Annotated[
        bool,
        typer.Option("--hardlink", help="Hard-link from the store (editing such a file corrupts the store)."),
    ] = False,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a version's files (reflink, else copy; verified).

    Example: keel data checkout xray-images@v3 ./imgs --include "cats/*"
    """
    from keel.data import checkout as data_checkout

    c, proj = _ctx(project)
    done = data_checkout(
        target, dest, include=include, force=force, hardlink=hardlink, project=proj, client=c
    )
    if json_out:
        output.print_json({"version": done.version, "dest": str(done.dest), "files": done.files})
        return
    output.done(f"checked out {done.version.address}: {done.files:,} file(s) -> {done.dest}")


@app.command("tag")
def tag_version(
    address: Annotated[str, typer.Argument(help="The version to tag, e.g. churn-train@v2.")],
    tag: Annotated[str, typer.Argument(help="The tag, e.g. golden.")],
    force: Annotated[bool, typer.Option("--force", help="Move the tag if it points elsewhere.")] = False,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Name a version, so name@<tag> finds it.

    Example: keel data tag churn-train@v2 golden
    """
    from keel.data import tag as data_tag

    c, proj = _ctx(project)
    v = data_tag(address, tag, force=force, project=proj, client=c)
    if json_out:
        output.print_json(v)
        return
    output.done(f"{v.dataset}@{tag} -> v{v.number}")


@app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Remove a dataset (soft): history stays, objects become collectable by `keel artifacts gc`.

    Example: keel data rm old-export
    """
    from keel.data import rm as data_rm

    c, proj = _ctx(project)
    d = data_rm(name, project=proj, client=c)
    if json_out:
        output.print_json(d)
        return
    output.done(
        f"removed dataset {d.name} ({d.versions} version(s)); run `keel artifacts gc` to reclaim space"
    )


@app.command("lineage")
def lineage(
    address: Annotated[str, typer.Argument(help="A version, e.g. churn-train@v2.")],
    depth: Annotated[int, typer.Option("--depth", help="How many steps to walk each way.")] = 5,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show what a version came from and what (runs, models) used it.

    Example: keel data lineage churn-train@v2
    """
    from keel.data import lineage as data_lineage

    c, proj = _ctx(project)
    view = data_lineage(address, depth=depth, project=proj, client=c)
    if json_out:
        output.print_json(view)
        return
    con = output.console()

    def named(ref: str) -> str:
        label = view.labels.get(ref)
        return f"{label} ({ref})" if label else ref

    con.print(f"[bold]{named(view.version)}[/bold]", highlight=False, markup=True)
    con.print("  upstream (what it came from):" if view.upstream else "  upstream: nothing recorded")
    for e in view.upstream:
        con.print(
            f"    {named(e['src'])} --{e['relation']}--> {named(e['dst'])}", highlight=False, markup=False
        )
    con.print("  downstream (what used it):" if view.downstream else "  downstream: nothing recorded")
    for e in view.downstream:
        con.print(
            f"    {named(e['src'])} --{e['relation']}--> {named(e['dst'])}", highlight=False, markup=False
        )


RemoteArg = Annotated[
    str | None,
    typer.Argument(help="A named remote (default: the only one, or origin; see `keel remote ls`)."),
]


def _transferred(report: Any, verb: str, json_out: bool) -> None:
    if json_out:
        from dataclasses import asdict

        output.print_json(asdict(report))
        return
    where = "there" if verb == "pushed" else "here"
    output.done(
        f"{verb} {report.moved:,} object(s), {_size(report.bytes)}; {report.present:,} were {where} already; "
        f"{len(report.versions)} version(s), {report.records} record(s) written"
    )


@app.command("push")
def push(
    remote: RemoteArg = None,
    address: Annotated[
        str | None, typer.Argument(help="One version (default: every version of the project).")
    ] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy to a remote the objects it lacks and each version's record (resumable).

    A version number the remote holds with other content (another clone pushed
    it first) is refused before anything is copied.

    Example: keel data push origin
    """
    from keel.data import push as data_push

    c, proj = _ctx(project)
    with output.progress(f"pushing to {remote or 'the remote'}", enabled=not json_out) as progress:
        report = data_push(remote, address, project=proj, progress=progress, client=c)
    _transferred(report, "pushed", json_out)


@app.command("pull")
def pull(
    remote: RemoteArg = None,
    address: Annotated[
        str | None,
        typer.Argument(help="A version or pointer file (default: every pointer file of the workspace)."),
    ] = None,
    include: Annotated[str | None, typer.Option("--include", help="Only files matching this glob.")] = None,
    project: ProjectOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Copy from a remote what this workspace lacks of a version, and record the version here.

    In a fresh clone (pointer files and .keel/config.toml only), no argument
    pulls every tracked version with its number and metadata.

    Example: keel data pull origin xray-images@v3 --include "cats/*"
    """
    from keel.data import pull as data_pull

    c, proj = _ctx(project)
    with output.progress(f"pulling from {remote or 'the remote'}", enabled=not json_out) as progress:
        report = data_pull(remote, address, include=include, project=proj, progress=progress, client=c)
    _transferred(report, "pulled", json_out)


# `keel data suite infer` and `keel data validate` are the validation capability's (keel.cli.validate_cmd).
from keel.cli.validate_cmd import register as _register_validation  # noqa: E402

_register_validation(app)
