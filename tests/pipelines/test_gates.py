"""Gates as steps: register and promote through the registry's KPI gate, data validation; a failed gate stops the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.core.errors import InvalidInput, StepFailed
from keel.pipelines import gates
from keel.pipelines.run import run_pipeline

pytest.importorskip("sklearn")

from pipelines import gates_demo as demo


def _project(client: Any, kpis: list[str]) -> None:
    client.projects.create(name="shop", kpis=kpis)


def test_register_then_promote_moves_the_alias_and_links_the_training_run(client: Any) -> None:
    _project(client, ["accuracy >= 0.8"])
    result = run_pipeline(demo.ship, client, project="shop")
    promoted = result.value("promote")
    assert promoted["ref"] == "tiny@1" and promoted["alias"] == "candidate" and promoted["kpis"] == "1/1 met"
    version = client.models.get(project="shop", ref="tiny@candidate")
    assert version.number == 1 and version.run_id == result.steps["fit"].run_id
    assert version.tags["keel.pipeline_run"] == result.id
    # a re-run: the unchanged model is registered once (register is cached); promote runs again
    again = run_pipeline(demo.ship, client, project="shop")
    assert again.steps["register"].cached and not again.steps["promote"].cached
    assert [v.number for v in client.models.versions(project="shop", name="tiny")] == [1]


def test_a_failed_promotion_gate_fails_the_pipeline_with_the_kpi_report_and_moves_nothing(
    client: Any,
) -> None:
    _project(client, ["accuracy <= 0.5"])
    with pytest.raises(
        StepFailed, match=r"step promote failed: tiny@1 does not pass the promotion gate"
    ) as err:
        run_pipeline(demo.ship, client, project="shop", params={"n": 61})
    assert err.value.exit_code == 1 and "KPIs 0/1 met" in err.value.message
    assert client.models.get(project="shop", ref="tiny@1").aliases == []
    [run] = client.pipelines.list(project="shop")
    assert run.status == "FAILED" and run.failed_step == "promote"


def test_a_failing_data_gate_stops_before_anything_is_registered(client: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.data import add
    from keel.validation import Suite

    _project(client, [])
    good = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0, 4.0]}), good)
    add(good, "rows", project="shop", client=client)
    suite = client.validation.infer_suite(project="shop", dataset="rows")
    assert isinstance(suite, Suite)
    run_pipeline(demo.checked, client, project="shop", params={"suite": suite})
    assert client.models.get(project="shop", ref="tiny@candidate").number == 1

    bad = tmp_path / "rows2.parquet"
    pq.write_table(pa.table({"x": [None, None, None, 4.0]}, schema=pa.schema([("x", pa.float64())])), bad)
    add(bad, "rows", project="shop", client=client)
    with pytest.raises(
        StepFailed,
        match=r"step validate_data failed: shop/rows@v2 fails suite rows: 1 of 5 checks failed \(null_rate\(x\)\)",
    ) as err:
        run_pipeline(demo.checked, client, project="shop", params={"suite": suite})
    assert "report " in err.value.message
    assert [v.number for v in client.models.versions(project="shop", name="tiny")] == [1]


def test_gates_refuse_bad_inputs_before_anything_runs(client: Any) -> None:
    import keel.pipelines as kp

    @kp.pipeline
    def promote_a_model() -> object:
        return gates.promote(demo.fit(), to="candidate")

    @kp.pipeline
    def validate_a_model() -> object:
        return gates.validate(demo.fit(), data="holdout@latest", label_column="y")

    @kp.pipeline
    def register_a_literal() -> object:
        return gates.register("not an output", name="tiny")  # type: ignore[arg-type]

    @kp.pipeline
    def no_dataset() -> object:
        return gates.validate_data("@v1", suite=None)

    for bad, message in [
        (promote_a_model, "promote takes the output of keel.gates.register"),
        (validate_a_model, "validate takes the output of keel.gates.register"),
        (register_a_literal, "register takes a step's output"),
        (no_dataset, "is not a dataset address"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            run_pipeline(bad, client, project="pipes")
    assert client.pipelines.list(project="pipes") == []
    with pytest.raises(InvalidInput, match=r"inside a @keel\.pipeline"):
        gates.validate_data("rows@v1", suite=None)


def _holdout(client: Any, tmp_path: Path, labels: list[int]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.data import add

    path = tmp_path / f"holdout{sum(labels)}.parquet"
    pq.write_table(pa.table({"x": [float(i) for i in range(60)], "y": labels}), path)
    add(path, "holdout", project="shop", client=client)


def test_validate_gate_stores_a_report_and_stops_a_failing_model(client: Any, tmp_path: Path) -> None:
    _project(client, ["accuracy >= 0.8"])
    _holdout(client, tmp_path, [int(i > 30) for i in range(60)])
    result = run_pipeline(demo.validated, client, project="shop")
    validated = result.value("validate")
    assert validated["ref"] == "framed@1" and validated["validation_report"]
    assert client.models.get(project="shop", ref="framed@candidate").number == 1
    # the same model judged on labels it gets wrong: the gate fails, nothing more is promoted
    _holdout(client, tmp_path, [int(i <= 30) for i in range(60)])
    with pytest.raises(
        StepFailed, match=r"step validate failed: framed@1 fails validation on shop/holdout@v2"
    ):
        run_pipeline(demo.validated, client, project="shop")
    assert client.models.get(project="shop", ref="framed@candidate").number == 1


def test_check_parity_gate_fails_for_a_package_without_preprocessing(client: Any) -> None:
    _project(client, [])
    with pytest.raises(StepFailed, match=r"step check_parity failed: .*preprocessing") as err:
        run_pipeline(demo.parity_checked, client, project="shop")
    assert err.value.details["step"] == "check_parity"
    assert client.models.get(project="shop", ref="framed@1").aliases == []
