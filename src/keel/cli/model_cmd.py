"""``keel model``: the registry from the shell; each command calls the same operation as the SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keel.cli import output
from keel.cli.state import chosen_project as _project
from keel.cli.state import client

app = typer.Typer(
    help="Models: versions, aliases, the KPI-gated promotion, rollback, safe download.\n\n"
    "Example: keel model ls --project churn",
    no_args_is_help=True,
)

ProjectOption = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the `project` setting).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
RefArg = Annotated[str, typer.Argument(help="NAME, NAME@VERSION, NAME@ALIAS or model_version:<id>.")]


def _version_row(v: Any) -> list[Any]:
    return [
        v.number,
        ",".join(v.aliases),
        v.flavor,
        v.run_id or "",
        v.size,
        v.status,
        v.created_at.isoformat(timespec="seconds"),
    ]


@app.command("ls")
def ls(
    name: Annotated[
        str | None, typer.Argument(help="A model: list its versions instead of the models.")
    ] = None,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived versions.")] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """List the project's models, or one model's versions (newest first).

    Example: keel model ls churn --project churn --json
    """
    c = client()
    proj = _project(project)
    if name is None:
        models = output.all_pages(lambda **kw: c.models.ls(project=proj, **kw))
        if json_out:
            output.print_json(models)
            return
        rows = [
            [m.name, m.latest_version or "", m.versions, " ".join(f"{a}={n}" for a, n in m.aliases.items())]
            for m in models
        ]
        output.print_table(f"models in {proj}", ["name", "latest", "versions", "aliases"], rows)
        return
    versions = c.models.versions(project=proj, name=name, include_archived=archived)
    if json_out:
        output.print_json(versions)
        return
    columns = ["version", "aliases", "flavor", "run", "bytes", "status", "created"]
    output.print_table(f"{name} in {proj}", columns, [_version_row(v) for v in versions])


@app.command("show")
def show(ref: RefArg, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Show a version: signature, requirements, files, metrics, the KPI gate's verdict, lineage.

    Example: keel model show churn@production --project churn
    """
    c = client()
    proj = _project(project)
    version = c.models.get(project=proj, ref=ref)
    gate = c.models.gate(project=proj, ref=version.ref)
    lineage = c.models.lineage(project=proj, ref=version.ref)
    if json_out:
        output.print_json({"version": version, "gate": gate, "lineage": lineage})
        return
    m = version.manifest
    output.line(f"{version.model}@{version.number}  {version.ref}")
    output.line(f"aliases:      {', '.join(version.aliases) or '-'}")
    output.line(
        f"package:      {version.package_digest} ({version.size} bytes, {m['flavor']}: {m['model_class']})"
    )
    if m.get("unsafe_pickle"):
        output.line(
            "UNSAFE:       a pickle: loading it runs code (servers refuse it unless the deployment opts in)"
        )
    output.line(f"run:          {version.run_id or '- (registered from files)'}")
    origin = m.get("converted_from")
    if origin:
        parity = origin.get("parity", {})
        output.line(
            f"converted:    from {origin.get('version', origin.get('flavor'))}: {parity.get('rows', 0)} rows "
            f"(input example + sample) agree (max difference {parity.get('max_abs_diff', 0.0):.3g}, tolerance {parity.get('tolerance')})"
        )
    output.line(f"requirements: {' '.join(m['requirements'])}")
    signature = m.get("signature")
    if signature:
        for side in ("inputs", "outputs"):
            schema = signature[side]
            text = (
                ", ".join(f"{col['name']}: {col['dtype']}" for col in schema["columns"])
                if schema.get("columns")
                else f"{schema['tensor']['dtype']}{schema['tensor']['shape']}"
            )
            output.line(f"{side + ':':<13} {text}")
    output.line(f"files:        {', '.join(sorted(m['files']))}")
    metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(gate.metrics.items())) or "-"
    output.line(f"metrics:      {metrics} (from {gate.metrics_source})")
    output.line(f"KPI gate:     {'passes' if gate.passed else 'fails'} ({gate.kpi_report.summary()})")
    for edge in lineage.upstream:
        output.line(f"lineage:      {edge.src} --{edge.relation}--> {edge.dst}")


@app.command("alias")
def alias(
    name: Annotated[str, typer.Argument(help="The model.")],
    version: Annotated[int, typer.Argument(help="The version number.")],
    alias_name: Annotated[
        str, typer.Argument(metavar="ALIAS", help="A name, not a number (candidate, staging).")
    ],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Point an alias at a version (protected aliases such as production move only by `promote`).

    Example: keel model alias churn 3 candidate --project churn
    """
    moved = client().models.set_alias(project=_project(project), name=name, alias=alias_name, version=version)
    if json_out:
        output.print_json(moved)
        return
    output.done(f"{name}@{alias_name} -> version {moved.number}")


@app.command("promote")
def promote(
    ref: RefArg,
    to: Annotated[str, typer.Option("--to", help="The alias to move (production is admins' only).")],
    force: Annotated[bool, typer.Option("--force", help="Admin override of a failing KPI gate.")] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required with --force; audited).")
    ] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Move an alias onto a version if the project's offline KPIs are met (exit 1 when the gate fails).

    Example: keel model promote churn@candidate --to production --project churn
    """
    done = client().models.promote(project=_project(project), ref=ref, to=to, force=force, reason=reason)
    if json_out:
        output.print_json(done)
        return
    was = f" (was version {done.previous_version})" if done.previous_version else ""
    how = f"OVERRIDDEN: {done.reason}" if done.forced else "KPI gate passed"
    output.done(
        f"{done.version.model}@{to} -> version {done.version.number}{was}; {how} ({done.gate.kpi_report.summary()})"
    )


@app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="The model.")],
    alias_name: Annotated[str, typer.Option("--alias", help="The alias to move back.")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Move an alias back to the version that held it before.

    Example: keel model rollback churn --alias production --project churn
    """
    back = client().models.rollback(project=_project(project), name=name, alias=alias_name)
    if json_out:
        output.print_json(back)
        return
    output.done(f"{name}@{alias_name} -> version {back.number}")


@app.command("download")
def download(
    ref: RefArg,
    dest: Annotated[Path, typer.Argument(help="A new folder.")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Write a version's package into a folder, every file verified against its digest.

    Example: keel model download churn@production ./model --project churn
    """
    import keel.models
    from keel.artifact_service.paths import download_tree

    c = client()
    proj = _project(project)
    version = c.models.get(project=proj, ref=ref)
    download_tree(
        version.package_digest, dest, download=lambda d: c.artifacts.download(project=proj, digest=d)
    )
    manifest = keel.models.verify(dest)
    if json_out:
        output.print_json(
            {
                "model": version.model,
                "version": version.number,
                "dest": str(dest),
                "files": len(manifest.files),
            }
        )
        return
    output.done(f"wrote {version.model}@{version.number} to {dest}")


@app.command("verify")
def verify(ref: RefArg, project: ProjectOption = None, json_out: JsonOption = False) -> None:
    """Fetch a version and check every file against its digest and the registry's record (exit 1 if not).

    Example: keel model verify churn@3 --project churn
    """
    import keel.models
    from keel.sdk import fetch_model

    c = client()
    proj = _project(project)
    folder = fetch_model(ref, project=proj, client=c)
    manifest = keel.models.verify(folder)
    if json_out:
        output.print_json({"ref": ref, "files": len(manifest.files), "verified": True})
        return
    output.done(f"{ref}: {len(manifest.files)} file(s) match their digests")


@app.command("register")
def register(
    path: Annotated[Path, typer.Argument(help="A package folder (keel.models.save wrote it).")],
    name: Annotated[str, typer.Option("--name", "-n", help="The model to add a version to.")],
    run_id: Annotated[str | None, typer.Option("--run", help="The run that made it.")] = None,
    description: Annotated[str, typer.Option("--description", help="What this version is.")] = "",
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Register a package folder as a new version (verified, uploaded as one tree).

    Example: keel model register ./model --name churn --project churn
    """
    from keel.sdk import register_model

    version = register_model(
        path, name, project=_project(project), run_id=run_id, description=description, client=client()
    )
    if json_out:
        output.print_json(version)
        return
    output.done(f"registered {version.model}@{version.number} ({version.package_digest[:12]})")


@app.command("convert")
def convert(
    ref: RefArg,
    to: Annotated[str, typer.Option("--to", help="The format to convert to: onnx.")],
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Register under this model (default: the same).")
    ] = None,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="How far converted probabilities or values may differ.")
    ] = 1e-5,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Convert a scikit-learn version (skl2onnx) and register it as a new version, if both answer alike.

    The converted graph must give the same labels, and probabilities or values
    within --tolerance, on the version's input example (exit 1 if not); the
    new version records the figures and a converted_from lineage edge.

    Example: keel model convert churn@3 --to onnx --project churn
    """
    import tempfile

    from keel.core.errors import InvalidInput
    from keel.models.convert import TARGETS, to_onnx
    from keel.sdk import fetch_model, register_model

    if to not in TARGETS:
        raise InvalidInput(f"--to {to!r} is not a format Keel converts to (choose: {', '.join(TARGETS)})")
    c = client()
    proj = _project(project)
    source = c.models.get(project=proj, ref=ref)
    folder = fetch_model(source.ref, project=proj, client=c)
    with tempfile.TemporaryDirectory(prefix="keel-convert-") as tmp:
        manifest = to_onnx(folder, Path(tmp, "package"), source_ref=source.ref, tolerance=tolerance)
        version = register_model(
            Path(tmp, "package"),
            name or source.model,
            project=proj,
            run_id=source.run_id,
            description=f"{to} conversion of {source.model}@{source.number}",
            client=c,
        )
    if json_out:
        output.print_json(version)
        return
    parity = (manifest.converted_from or {}).get("parity", {})
    output.done(
        f"registered {version.model}@{version.number} ({to}) from {source.model}@{source.number}; "
        f"{parity.get('rows', 0)} rows (input example + sample) agree (max difference {parity.get('max_abs_diff', 0.0):.3g})"
    )


@app.command("protect")
def protect(
    aliases: Annotated[
        str | None,
        typer.Argument(help="Comma-separated aliases only admins move, by promote ('' for none)."),
    ] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show the project's protected aliases, or set them (project admins; default: production).

    Example: keel model protect production,staging --project churn
    """
    c = client()
    proj = _project(project)
    if aliases is None:
        current = c.models.policy(project=proj)
    else:
        names = [a.strip() for a in aliases.split(",") if a.strip()]
        current = c.models.set_policy(project=proj, protected_aliases=names)
    if json_out:
        output.print_json(current)
        return
    output.line(f"protected aliases: {', '.join(current.protected_aliases) or '-'}")


@app.command("retention")
def retention(
    keep_last: Annotated[
        int | None,
        typer.Option("--keep-last", help="Set: keep this many newest unaliased versions per model (0: all)."),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Archive now what the policy says (every model, or NAME).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --apply: only say what it would archive.")
    ] = False,
    name: Annotated[str | None, typer.Option("--model", help="With --apply: only this model.")] = None,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Show or set the project's retention; --apply archives old unaliased versions (never an aliased one).

    Registering a version applies the policy to its model; --apply is for every model at once, after a change.

    Example: keel model retention --keep-last 5 --apply --dry-run --project churn
    """
    c = client()
    proj = _project(project)
    policy = (
        c.models.set_policy(project=proj, keep_last=keep_last)
        if keep_last is not None
        else c.models.policy(project=proj)
    )
    if not apply:
        if json_out:
            output.print_json(policy)
            return
        kept = (
            f"the newest {policy.keep_last} unaliased versions per model"
            if policy.keep_last
            else "every version"
        )
        output.line(f"retention: keep {kept}")
        return
    report = c.models.retain(project=proj, name=name, dry_run=dry_run)
    if json_out:
        output.print_json(report)
        return
    if report.keep_last is None:
        output.line("no retention policy: every version is kept (set one with --keep-last N)")
        return
    verb = "would archive" if dry_run else "archived"
    for model, numbers in report.archived.items():
        output.line(f"{verb} {model}@{', '.join(str(n) for n in numbers)}")
    if not report.archived:
        output.line(
            f"nothing to archive (keeping the newest {report.keep_last} unaliased versions per model)"
        )


@app.command("archive")
def archive(
    name: Annotated[str, typer.Argument(help="The model.")],
    version: Annotated[int, typer.Argument(help="The version number.")],
    restore: Annotated[bool, typer.Option("--restore", help="Show it in listings again.")] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Hide a version from listings (kept and still loadable by number); --restore undoes it.

    Example: keel model archive churn 1 --project churn
    """
    changed = client().models.archive(
        project=_project(project), name=name, version=version, archived=not restore
    )
    if json_out:
        output.print_json(changed)
        return
    output.done(f"{name}@{version} {'restored' if restore else 'archived'}")


@app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="The model.")],
    version: Annotated[int, typer.Argument(help="The version number.")],
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Delete a version (project admins): gc may then reclaim its package's bytes.

    Example: keel model rm churn 1 --project churn
    """
    deleted = client().models.delete(project=_project(project), name=name, version=version)
    if json_out:
        output.print_json(deleted)
        return
    output.done(f"deleted {name}@{version}")


# `keel model validate`, `check-parity` and `policy` are the validation capability's (keel.cli.validate_model_cmd).
from keel.cli.validate_model_cmd import register as _register_validation  # noqa: E402

_register_validation(app)


@app.command("predict")
def predict(
    ref: RefArg,
    data: Annotated[str, typer.Option("--data", "-d", help="The dataset version to score: NAME@VERSION.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The Parquet file to write (must not exist).")],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Dataset to version the scores as (default: the file's stem)."),
    ] = None,
    chunk_rows: Annotated[int, typer.Option("--chunk-rows", min=1, help="Rows scored at a time.")] = 50_000,
    allow_unsafe_pickle: Annotated[
        bool, typer.Option("--allow-unsafe-pickle", help="Load a pickled version (runs code).")
    ] = False,
    project: ProjectOption = None,
    json_out: JsonOption = False,
) -> None:
    """Batch scoring: predict every row of a dataset version, versioned as a dataset with lineage.

    Example: keel model predict churn@production --data churn-new@v1 --out scores.parquet
    """
    from keel.cli.batch_score import score

    version, rows = score(
        ref,
        data,
        out,
        project=_project(project),
        client=client(),
        name=name,
        chunk_rows=chunk_rows,
        allow_unsafe_pickle=allow_unsafe_pickle,
    )
    if json_out:
        output.print_json({"rows": rows, "out": str(out), "version": version})
        return
    output.done(f"scored {rows} rows of {data} with {ref}: {out}, versioned as {version.address}")
