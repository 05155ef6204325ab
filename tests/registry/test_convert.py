"""``keel model convert``: an ONNX version registered beside its source, lineage and parity recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel
import keel.models

pytest.importorskip("skl2onnx")


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any], fitted: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn", "--kpi", "accuracy >= 0.9").code == 0
    keel.init(project="churn", home=tmp_path / ".keel")
    model, X, _ = fitted
    with keel.start_run(name="tree", system_metrics=False, capture_env=False) as run:
        run.log_metric("accuracy", 0.95)
        run.log_model(model, name="churn", input_example=X.head(10))
    keel.models.save(model, tmp_path / "bare")  # no input example
    return keel_cli


def test_convert_registers_an_onnx_version_with_lineage_and_parity(shell: Any, fitted: Any) -> None:
    done = shell("model", "convert", "churn@1", "--to", "onnx", "-p", "churn")
    assert done.code == 0, done.err
    assert "registered churn@2 (onnx) from churn@1; 210 rows (input example + sample) agree" in done.out
    shown = json.loads(shell("model", "show", "churn@2", "-p", "churn", "--json").out)
    version, lineage = shown["version"], shown["lineage"]
    assert version["flavor"] == "onnx" and version["run_id"] is not None
    source = json.loads(shell("model", "show", "churn@1", "-p", "churn", "--json").out)["version"]
    assert version["manifest"]["converted_from"]["version"] == f"model_version:{source['id']}"
    assert version["manifest"]["converted_from"]["parity"]["labels_differing"] == 0
    edges = {(e["relation"], e["dst"]) for e in lineage["upstream"]}
    assert ("converted_from", f"model_version:{source['id']}") in edges
    assert ("produced_by", f"run:{version['run_id']}") in edges
    assert shown["gate"]["passed"]  # the run's metrics judge the converted version too
    text = shell("model", "show", "churn@2", "-p", "churn").out
    assert "converted:    from model_version:" in text
    model, X, _ = fitted
    loaded = keel.models.load("churn@2", project="churn")
    assert list(loaded.predict(X.head(30))) == list(model.predict(X.head(30)))


def test_what_cannot_be_converted_is_exit_2_and_registers_nothing(shell: Any, tmp_path: Path) -> None:
    wrong = shell("model", "convert", "churn@1", "--to", "tflite", "-p", "churn")
    assert wrong.code == 2 and "--to 'tflite' is not a format Keel converts to (choose: onnx)" in wrong.err
    assert shell("model", "register", str(tmp_path / "bare"), "--name", "bare", "-p", "churn").code == 0
    bare = shell("model", "convert", "bare@1", "--to", "onnx", "-p", "churn")
    assert bare.code == 2 and "has no input example" in bare.err
    assert shell("model", "convert", "churn@1", "--to", "onnx", "-p", "churn").code == 0
    again = shell("model", "convert", "churn@2", "--to", "onnx", "-p", "churn")
    assert again.code == 2 and "only scikit-learn packages convert" in again.err
    missing = shell("model", "convert", "churn@9", "--to", "onnx", "-p", "churn")
    assert missing.code == 2 and "has no version 9" in missing.err
    versions = json.loads(shell("model", "ls", "churn", "-p", "churn", "--json").out)
    assert [v["number"] for v in versions] == [2, 1]


def test_a_package_naming_a_source_outside_the_project_is_refused(world: Any, package: Path) -> None:
    from keel.core.errors import InvalidInput, NotFound
    from keel.models.manifest import MANIFEST_NAME
    from keel.sdk import register_model

    admin = world.client(world.admin_token)
    doc = json.loads((package / MANIFEST_NAME).read_text())
    for source, error, message in [
        ("model_version:01ZZZZZZZZZZZZZZZZZZZZZZZZ", NotFound, r"no model_version:01Z+ in project 'churn'"),
        ("churn@1", InvalidInput, r"converted_from.version 'churn@1' is not a model_version:<id>"),
    ]:
        doc["converted_from"] = {"version": source}
        (package / MANIFEST_NAME).write_text(json.dumps(doc))
        with pytest.raises(error, match=message):
            register_model(package, "churn", project="churn", client=admin)
    with pytest.raises(NotFound):
        admin.models.get(project="churn", ref="churn")
