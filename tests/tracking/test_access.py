"""Runs addressed by id, with auth on: checked against the run's project id, a hidden run answers
like an unknown one, deletions are audit events, and a run's artifacts are its project's to read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.core.ids import new_id
from keel.core.operations import Action, Operation, operations_of
from keel.testing.auth import AuthWorld
from keel.tracking import RunService

#: Valid values for the required inputs of the by-id operations, so each gets as far as its check.
INPUTS: dict[str, Any] = {"path": "model/weights.bin", "key": "loss", "refs": ["dataset_version:01ABC"]}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    w = AuthWorld(Path(tmp_path_factory.mktemp("runs-access")))
    w.project("churn")
    w.project("secret")
    tokens = {
        "viewer": w.user("vic", role="viewer", project="churn"),
        "editor": w.user("eddie", role="editor", project="churn"),
        "outsider": w.user("otto", role="editor", project="secret"),
    }
    editor = w.client(tokens["editor"])
    run = editor.runs.create(project="churn", params={"depth": 6})
    editor.runs.log_batch(run.id, metrics=[("loss", 0.5, 0, 1_700_000_000_000)])
    editor.runs.upload_artifact(run.id, "model/weights.bin", [b"0123"])
    return w, tokens, run.id


def _by_id_operations() -> list[Any]:
    ops = [op for op in operations_of(RunService).values() if "{run_id}" in op.path]
    assert all(op.action is Action.AUTHENTICATED for op in ops)
    return [pytest.param(op, id=op.name) for op in ops]


def _request(op: Operation, run_id: str) -> dict[str, Any]:
    url = op.path.replace("{run_id}", run_id)
    inputs = {
        name: INPUTS[name]
        for name, field in op.input_model.model_fields.items()
        if name != "run_id" and field.is_required()
    }
    if op.stream_param is not None:
        return {"method": op.method, "url": url, "params": inputs, "content": b"bytes"}
    if op.method in ("GET", "DELETE"):
        return {"method": op.method, "url": url, "params": inputs}
    return {"method": op.method, "url": url, "json": inputs}


def test_every_run_operation_by_id_is_checked() -> None:
    assert len(_by_id_operations()) >= 12


@pytest.mark.parametrize("op", _by_id_operations())
def test_a_hidden_run_answers_exactly_like_an_unknown_one(world: Any, op: Operation) -> None:
    w, tokens, run_id = world
    otto = w.http(tokens["outsider"])
    unknown_id = new_id()
    hidden = otto.request(**_request(op, run_id))
    unknown = otto.request(**_request(op, unknown_id))
    assert (hidden.status_code, unknown.status_code) == (404, 404), f"{op.name}: {hidden.text}"
    assert hidden.json() == json.loads(unknown.text.replace(unknown_id, run_id))
    assert hidden.json()["error"]["message"] == f"no run with id {run_id!r}"
    assert "churn" not in hidden.text


def test_what_an_outsider_tried_changed_nothing(world: Any) -> None:
    w, tokens, run_id = world
    otto = w.http(tokens["outsider"])
    for op in operations_of(RunService).values():
        if "{run_id}" in op.path:
            otto.request(**_request(op, run_id))
    run = w.client(w.admin_token).runs.get(run_id)
    assert (run.status, run.deleted, run.metrics) == ("RUNNING", False, {"loss": 0.5})
    assert [a.path for a in run.artifacts] == ["model/weights.bin"]


def test_a_lesser_role_is_refused_naming_the_run_not_the_project(world: Any) -> None:
    w, tokens, run_id = world
    vic = w.http(tokens["viewer"])
    assert vic.get(f"/api/v1/runs/{run_id}").status_code == 200
    refused = vic.delete(f"/api/v1/runs/{run_id}")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "permission_denied"
    assert error["message"] == f"vic is viewer on run {run_id}; this needs editor"
    assert not w.client(w.admin_token).runs.get(run_id).deleted


def test_a_parent_run_the_caller_cannot_see_is_an_unknown_one(world: Any) -> None:
    w, tokens, _ = world
    secret_run = w.client(tokens["outsider"]).runs.create(project="secret")
    eddie = w.http(tokens["editor"])
    hidden = eddie.post("/api/v1/runs", json={"project": "churn", "parent_id": secret_run.id})
    unknown_id = new_id()
    unknown = eddie.post("/api/v1/runs", json={"project": "churn", "parent_id": unknown_id})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json() == json.loads(unknown.text.replace(unknown_id, secret_run.id))
    assert "secret" not in hidden.text
    # one who sees both projects learns why instead
    admin = w.http(w.admin_token)
    mixed = admin.post("/api/v1/runs", json={"project": "churn", "parent_id": secret_run.id})
    assert mixed.status_code == 422
    assert mixed.json()["error"]["message"] == f"parent run {secret_run.id} belongs to another project"


def test_deleting_and_restoring_a_run_are_audit_events(world: Any) -> None:
    w, tokens, _ = world
    eddie = w.client(tokens["editor"])
    run = eddie.runs.create(project="churn")
    eddie.runs.delete(run.id)
    eddie.runs.restore(run.id)
    admin = w.client(w.admin_token)
    churn_id = admin.projects.get("churn").id
    events = {e.action: e for e in admin.audit.ls(project="churn").items if e.target == f"run:{run.id}"}
    assert set(events) == {"run.delete", "run.restore"}
    for event in events.values():
        assert (event.actor, event.project_id) == ("eddie", churn_id)


def test_a_refused_delete_records_nothing(world: Any) -> None:
    w, tokens, run_id = world
    unknown_id = new_id()
    attempts = [
        (tokens["viewer"], run_id, 403),
        (tokens["outsider"], run_id, 404),
        (None, run_id, 401),
        (tokens["editor"], unknown_id, 404),
    ]
    for token, target, status in attempts:
        assert w.http(token).delete(f"/api/v1/runs/{target}").status_code == status
    admin = w.client(w.admin_token)
    targets = {e.target for e in admin.audit.ls(action="run.delete", limit=1000).items}
    assert not targets & {f"run:{run_id}", f"run:{unknown_id}"}
    assert not admin.runs.get(run_id).deleted


def test_a_runs_artifacts_are_readable_by_its_projects_readers_only(world: Any) -> None:
    w, tokens, run_id = world
    [artifact] = w.client(tokens["viewer"]).runs.list_artifacts(run_id).items
    vic = w.client(tokens["viewer"])
    assert vic.artifacts.exists(project="churn", digests=[artifact.digest]) == [artifact.digest]
    assert vic.artifacts.stat(project="churn", digest=artifact.digest).size == 4
    otto = w.client(tokens["outsider"])
    assert otto.artifacts.exists(project="secret", digests=[artifact.digest]) == []


def test_lineage_never_crosses_into_a_project_the_caller_cannot_read(world: Any) -> None:
    w, tokens, run_id = world
    otto = w.client(tokens["outsider"])
    secret_run = otto.runs.create(project="secret", name="secret-model")
    secret_digest = otto.artifacts.upload(project="secret", data=[b"guessable content"]).digest
    otto.runs.use(secret_run.id, refs=[secret_digest])
    eddie = w.http(tokens["editor"])
    for ref in (secret_digest, f"run:{secret_run.id}"):
        refused = eddie.post(f"/api/v1/runs/{run_id}/inputs", json={"refs": [ref]})
        assert refused.status_code == 404, refused.text
        assert "secret" not in refused.text
    unknown = eddie.post(f"/api/v1/runs/{run_id}/inputs", json={"refs": [f"run:{new_id()}"]})
    assert unknown.status_code == 404
    assert eddie.post(f"/api/v1/runs/{run_id}/inputs", json={"refs": ["project:secret"]}).status_code == 422
    # an admin (who reads both) links them; the editor of churn still sees nothing of secret
    admin = w.client(w.admin_token)
    mine = admin.runs.create(project="churn", name="mine")
    admin.runs.use(mine.id, refs=[f"run:{secret_run.id}", f"run:{run_id}"])
    seen = w.client(tokens["editor"]).runs.lineage(mine.id)
    assert {e.dst for e in seen.upstream} == {f"run:{run_id}"}
    assert secret_run.id not in json.dumps(seen.model_dump(mode="json"))
    assert secret_digest not in json.dumps(seen.model_dump(mode="json"))
    everything = admin.runs.lineage(mine.id)
    assert {e.dst for e in everything.upstream} == {
        f"run:{run_id}",
        f"run:{secret_run.id}",
        f"artifact:{secret_digest}",
    }
    assert everything.labels[f"run:{secret_run.id}"] == "secret-model"
