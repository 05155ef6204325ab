"""Model versions in a run's lineage: shown by address (``churn@1``), and only to those who may read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keel
from keel.testing.auth import AuthWorld
from keel.testing.fixtures import new_workspace


def test_a_runs_lineage_names_the_model_versions_it_produced(tmp_path: Path, fitted: Any) -> None:
    settings = new_workspace(tmp_path / "ws")
    client = keel.init(project="churn", create=True, home=settings.home)
    model, X, y = fitted
    data = tmp_path / "train.csv"
    X.assign(target=y).head(50).to_csv(data, index=False)
    added = keel.data.add(data, "train", project="churn", pointer=False, gitignore=False)
    with keel.start_run(name="rf") as run:
        run.use_dataset(added.version.ref)
        first = run.log_model(model, name="churn", input_example=X.head(5))
        second = run.log_model(model, name="churn", input_example=X.head(5))
    lineage = client.runs.lineage(run_id=run.id)
    made = {(e.src, e.relation, e.dst) for e in lineage.downstream}
    assert (first.ref, "produced_by", f"run:{run.id}") in made and (
        second.ref,
        "produced_by",
        f"run:{run.id}",
    ) in made
    assert lineage.labels[first.ref] == "churn@1" and lineage.labels[second.ref] == "churn@2"
    assert lineage.labels[added.version.ref] == "train@v1"


def test_a_model_version_in_a_project_the_caller_cannot_read_is_left_out(
    world: AuthWorld, package: Path
) -> None:
    from keel.sdk import register_model

    admin = world.client(world.admin_token)
    world.project("secret")
    hidden = register_model(package, "hidden", project="secret", client=admin)
    run = admin.runs.create(project="churn", name="r")
    with world.ctx.store.write() as session:  # a version of another project made from this run
        from keel.lineage import add_edges

        add_edges(session, [(hidden.ref, "produced_by", f"run:{run.id}")])
    reader = world.client(world.user("vera", role="viewer", project="churn"))
    assert hidden.ref not in {e.src for e in reader.runs.lineage(run_id=run.id).downstream}
    seen = admin.runs.lineage(run_id=run.id)
    assert seen.labels[hidden.ref] == "hidden@1"
