"""``keel quickstart``: Keel's main job, end to end, on data Keel generates.

Each lifecycle stage adds a step here as it lands: a function taking the shared
:class:`Quickstart` state, listed in :data:`STAGES` in the order of the lifecycle
(data, validation, training, pipeline, registry, serving, drift, retraining, hot swap).
Steps number themselves, so a stage added in the middle renumbers the rest. Every line
printed describes something that was actually done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from keel.client import connect
from keel.core.errors import AlreadyExists, InvalidInput
from keel.core.workspace import set_config_value
from keel.quickstart import validation
from keel.quickstart.monitoring import monitoring_stage
from keel.quickstart.pipeline import training_pipeline_stage
from keel.quickstart.serving import hot_swap_stage, serving_stage
from keel.quickstart.state import KPIS, PROJECT, Quickstart
from keel.quickstart.ui import say_ui_signin
from keel.samples import customers_table
from keel.sdk import create_local_workspace

__all__ = ["KPIS", "PROJECT", "STAGES", "Quickstart", "run_quickstart"]


def _data_stage(qs: Quickstart) -> None:
    """Version the customer table and a digits image folder, then diff two table versions."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from keel.data import add, diff

    client, directory, say = qs.client, qs.directory, qs.say
    assert qs.table_path is not None, "the quickstart writes the table before the data stage"
    path = qs.table_path
    first = add(path, "churn-train", message="generated export", project=PROJECT, client=client)
    v1 = first.version
    state = "Versioned" if first.created else "Unchanged, kept"
    qs.step(
        f"{state} {path.name} as {v1.dataset}@v{v1.number}: {v1.rows:,} rows, "
        f"{len(v1.columns)} columns profiled; pointer {first.pointer.name if first.pointer else '-'}"
    )
    # A later export: the first 2 % of customers left, one plan's prices went up 5 %.
    table = pq.read_table(path)
    table = table.slice(table.num_rows // 50)
    premium = pc.equal(table.column("plan"), "premium")
    charges = pc.if_else(
        premium,
        pc.round(pc.multiply(table.column("monthly_charges"), 1.05), 2),
        table.column("monthly_charges"),
    )
    table = table.set_column(table.schema.get_field_index("monthly_charges"), "monthly_charges", charges)
    later = directory / "data" / "customers-next.parquet"
    pq.write_table(table, later)
    second = add(later, "churn-train", message="next month's export", project=PROJECT, client=client)
    v2 = second.version
    qs.dataset_versions = [v1, v2]
    if second.created:
        say(f"   Versioned {later.name} as {v2.dataset}@v{v2.number}: {v2.rows:,} rows")
    else:
        say(f"   Unchanged: {later.name} is already {v2.dataset}@v{v2.number}")
    result = diff(
        f"churn-train@v{v1.number}",
        f"churn-train@v{v2.number}",
        key=["customer_id"],
        project=PROJECT,
        client=client,
    )
    if result.rows is not None:
        moved = next(
            (
                d
                for c in result.column_deltas
                if c.column == "monthly_charges"
                for d in c.deltas
                if d.stat == "mean"
            ),
            None,
        )
        shift = (
            f"; mean monthly_charges {moved.before:.2f} -> {moved.after:.2f}"
            if moved and moved.change is not None
            else ""
        )
        say(
            f"   Diff v{v1.number} -> v{v2.number} by customer_id: {result.rows.removed:,} removed, "
            f"{result.rows.added:,} added, {result.rows.changed:,} changed{shift}"
        )
    images = directory / "data" / "digits"
    try:
        count = _write_digits(images)
    except ImportError as exc:
        say(
            f"   Skipped the digits image folder: {exc.name} is not installed (pip install 'keel[sklearn,images]')"
        )
        return
    folder = add(images, "digits", message="scikit-learn digits as PNG", project=PROJECT, client=client)
    fv = folder.version
    png = next((s for s in fv.summary if s.extension == ".png"), None)
    sizes = f", {png.width_min}x{png.height_min} px" if png and png.images_measured else ""
    state = "Versioned" if folder.created else "Unchanged, kept"
    say(
        f"   {state} {count} digit images ({images.name}/) as {fv.dataset}@v{fv.number}: {fv.files} files{sizes}"
    )


def _write_digits(folder: Path) -> int:
    """PNG files of scikit-learn's bundled 8x8 digits, one folder per label (needs scikit-learn and Pillow)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for i, (image, label) in enumerate(zip(digits.images[:500], digits.target[:500], strict=True)):
        target = folder / f"label_{int(label)}" / f"digit_{i:04d}.png"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray((image * 16).clip(0, 255).astype("uint8"), mode="L").save(target)
    return 500


def _registry_stage(qs: Quickstart) -> None:
    """Package the winning run's model, register it, and let the KPI gate decide its promotions.

    The winner is the run with the highest roc_auc among those that met the KPIs; when none
    did, the highest overall, so the gate's refusal is shown instead.
    """
    from keel.core.errors import CheckFailed
    from keel.sdk import log_model

    client, ended, fitted, say = qs.client, qs.ended_runs, qs.fitted, qs.say

    passing = [r for r in ended if r.kpi_report is not None and r.kpi_report.passed]
    best = max(passing or ended, key=lambda r: r.metrics["roc_auc"])
    model, example = fitted[best.id]
    version = log_model(
        model,
        "churn",
        input_example=example,
        project=PROJECT,
        run_id=best.id,
        metrics=best.metrics,
        client=client,
        description=f"the quickstart's best run ({best.name})",
    )
    qs.model_version = version
    qs.step(
        f"Registered {best.name}'s model as churn@{version.number} "
        f"({version.flavor}, package {version.package_digest[:12]}, {version.size:,} bytes)"
    )
    for alias in ("candidate", "production"):
        try:
            done = client.models.promote(project=PROJECT, ref=f"churn@{version.number}", to=alias)
        except CheckFailed as exc:
            say(f"   Promotion to '{alias}' refused by the KPI gate: {exc}")
            return
        say(f"   Promoted churn@{version.number} to '{alias}': KPIs {done.gate.kpi_report.summary()}")
    say("   Load it anywhere: keel.models.load('churn@production')")


# The lifecycle in order. A capability adds its stage by inserting one line here.
STAGES: list[Callable[[Quickstart], None]] = [
    _data_stage,
    validation.data_stage,
    training_pipeline_stage,
    _registry_stage,
    validation.model_stage,
    serving_stage,
    monitoring_stage,
    hot_swap_stage,
]


def run_quickstart(directory: Path, *, rows: int = 5000, say: Callable[[str], None] = print) -> Path:
    """Create a workspace in ``directory``, a project with KPIs and a customer table; returns the workspace."""
    import pyarrow.parquet as pq

    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    made = create_local_workspace(directory)
    settings = made.settings
    home = Path(settings.home)
    say(
        f"1. {'Created' if made.created else 'Reused'} workspace {home} (database schema {made.schema_after})"
    )

    client = connect(settings=settings)
    try:
        project = client.projects.create(
            name=PROJECT,
            description="Predict which customers cancel within 30 days",
            objectives=["Cut churn by targeting retention offers"],
            kpis=KPIS,
        )
        say(f"2. Created project '{project.name}' with {len(project.kpis)} KPIs:")
    except AlreadyExists:
        project = client.projects.get(PROJECT)
        say(f"2. Project '{project.name}' exists already; kept its {len(project.kpis)} KPIs:")
    for kpi in project.kpis:
        say(f"     {kpi}")
    set_config_value(home, "project", PROJECT)  # the current project there: no --project needed

    table = customers_table(rows)
    data_dir = directory / "data"
    data_dir.mkdir(exist_ok=True)
    path = data_dir / "customers.parquet"
    pq.write_table(table, path)
    churn_rate = sum(table.column("churned").to_pylist()) / table.num_rows
    say(
        f"3. Generated {table.num_rows:,} customers x {table.num_columns} columns "
        f"(churn rate {churn_rate:.1%}, sensitive column 'gender') -> {path}"
    )
    qs = Quickstart(client=client, directory=directory, say=say, table_path=path, number=3)
    for stage in STAGES:
        stage(qs)
    say("")
    say("Next:")
    say(f"  cd {directory} && keel project show {PROJECT}")
    say(f"  keel project check {PROJECT} -m accuracy=0.81 -m roc_auc=0.84")
    say("  keel run ls --order-by 'metrics.roc_auc desc'")
    say_ui_signin(client, settings, say)
    return home
