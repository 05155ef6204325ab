"""``keel quickstart``: Keel's main job, end to end, on data Keel generates.

Each lifecycle stage adds a step here as it lands. Every line printed
describes something that was actually done.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from keel.client import connect
from keel.core.errors import AlreadyExists, InvalidInput
from keel.core.settings import load_settings
from keel.core.workspace import create_workspace
from keel.samples import customers_table
from keel.store.migrate import upgrade_url

PROJECT = "churn"
KPIS = [
    "accuracy >= 0.75",
    "roc_auc >= 0.80",
    "demographic_parity_difference <= 0.10 group=gender",
    "latency_p99_ms <= 50 stage=online",
]


def run_quickstart(directory: Path, *, rows: int = 5000, say: Callable[[str], None] = print) -> Path:
    """Create a workspace in ``directory``, a project with KPIs and a customer table; returns the workspace."""
    import pyarrow.parquet as pq

    if directory.exists() and not directory.is_dir():
        raise InvalidInput(f"{directory} exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    home, created = create_workspace(directory)
    settings = load_settings({"home": str(home)})
    _url, _before, after = upgrade_url(settings.db_url)
    say(f"1. {'Created' if created else 'Reused'} workspace {home} (database schema {after})")

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
    from keel.tracking.demo import train_demo_runs

    train_demo_runs(client.runs, PROJECT, table, say, 4)
    say("")
    say("Next:")
    say(f"  cd {directory} && keel project show {PROJECT}")
    say(f"  keel project check {PROJECT} -m accuracy=0.81 -m roc_auc=0.84")
    say(f"  keel run ls --project {PROJECT} --order-by 'metrics.roc_auc desc'")
    return home
