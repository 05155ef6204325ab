"""Gates as steps: register a model, promote it, check a data version; a failed gate stops the pipeline.

Inside a ``@keel.pipeline`` function::

    ok = gates.validate_data("churn-train@latest", suite=suite)
    model = train(prepare(raw), lr=lr)
    version = gates.register(model, name="churn").after(ok)
    version = gates.validate(version, data="churn-holdout@latest", label_column="churned")
    version = gates.check_parity(version)
    gates.promote(version, to="candidate")

(``from keel.pipelines import gates``.) ``validate`` and ``check_parity``
hand the registered version on, so the data flow orders the gates.

A gate is a step the driver runs itself (never in a worker or on Ray):
it acts through the Keel client the pipeline runs with, so it has that
caller's rights and its actions are audited as theirs, and it is a child
run of the pipeline like any step. A gate that does not pass fails its
step with the reason (the KPI report, the failed checks), the pipeline
fails (exit 1) and nothing after it runs, so nothing is promoted.

- ``register`` packages the model a step returned (:mod:`keel.models`) and
  registers it as a new version; the version is linked to the run of the
  step that trained it, so the registry's KPI gate reads that run's metrics.
  It is cached like any step: an unchanged model is registered once.
- ``validate`` measures the version on a labelled table version through the
  validation capability (metrics, the project's KPIs, a champion, slices,
  fairness) and stores the report the promotion reads as evidence;
  ``check_parity`` replays the package's recorded rows through its
  preprocessing as the server would. A failing report fails the gate.
- ``promote`` moves an alias through the registry's KPI gate; never cached.
- ``validate_data`` checks a dataset version against a validation suite;
  a failing report fails the gate. Never cached: data behind ``@latest``
  moves.

A step's output is registered as a model when it is the model object itself,
a :class:`TrainedModel`, or a mapping with a ``"model"`` key (and
optionally ``"example"`` or ``"input_example"`` for the signature).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.core.errors import CheckFailed, InvalidInput
from keel.core.operations import ByteStream
from keel.pipelines.define import _TRACER, Output, Resources, Step


@dataclass
class TrainedModel:
    """What a training step may return for ``register``: the model and an input example for its signature."""

    model: Any
    input_example: Any = None


@dataclass
class GateContext:
    """What a gate acts with: the pipeline's client and project, its own run, and its inputs' producers."""

    client: Any
    project: str
    pipeline: str
    pipeline_run_id: str
    run_id: str
    #: Argument name -> (run that computed the input, that run's metrics).
    producers: dict[str, tuple[str | None, dict[str, float]]] = field(default_factory=dict)


GateFn = Callable[..., Any]


class GateStep(Step[..., Any]):
    """A built-in step the driver runs in its own process with a :class:`GateContext`."""

    def __init__(self, fn: GateFn, *, name: str, cacheable: bool) -> None:
        super().__init__(fn, resources=Resources(cpu=0.0))
        self.name = name
        self.cacheable = cacheable
        # What a pipeline passes: everything after the context the driver supplies.
        self.signature = self.signature.replace(parameters=list(self.signature.parameters.values())[1:])

    def run_gate(self, ctx: GateContext, kwargs: dict[str, Any]) -> Any:
        return self.fn(ctx, **kwargs)


def _call(gate: GateStep, kwargs: dict[str, Any]) -> Output:
    tracer = _TRACER.get()
    if tracer is None:
        raise InvalidInput(f"keel.gates.{gate.name} is called inside a @keel.pipeline function")
    return tracer.add(gate, (), kwargs)


def _unpack(value: Any) -> tuple[Any, Any]:
    if isinstance(value, TrainedModel):
        return value.model, value.input_example
    if isinstance(value, Mapping) and "model" in value:
        return value["model"], value.get("input_example", value.get("example"))
    return value, None


def _register(
    ctx: GateContext, model: Any, name: str, description: str = "", unsafe_pickle: bool = False
) -> dict[str, Any]:
    import keel.models
    from keel.artifact_service.paths import upload_path

    obj, example = _unpack(model)
    run_id, metrics = ctx.producers.get("model", (None, {}))
    client, project = ctx.client, ctx.project
    with tempfile.TemporaryDirectory(prefix="keel-gate-") as tmp:
        folder = Path(tmp, "package")
        keel.models.save(obj, folder, input_example=example, unsafe_pickle=unsafe_pickle, metrics=metrics)
        put = upload_path(
            folder,
            exists=lambda digests: client.artifacts.exists(project=project, digests=digests),
            upload=lambda chunks, tree: client.artifacts.upload(
                project=project, data=ByteStream(chunks), tree=tree
            ),
        )
    version = client.models.register(
        project=project,
        name=name,
        package=put.digest,
        run_id=run_id,
        description=description or f"registered by pipeline {ctx.pipeline} run {ctx.pipeline_run_id}",
        tags={"keel.pipeline": ctx.pipeline, "keel.pipeline_run": ctx.pipeline_run_id},
    )
    return {
        "model": name,
        "version": version.number,
        "ref": f"{name}@{version.number}",
        "id": version.id,
        "package": put.digest,
    }


def _validate(
    ctx: GateContext,
    version: Any,
    data: str,
    label_column: str,
    champion: str | None = None,
    slices: list[str] | None = None,
) -> dict[str, Any]:
    name, _, at = data.partition("@")
    report = ctx.client.validation.validate_model(
        project=ctx.project,
        package=version["package"],
        dataset=name,
        version=at or "latest",
        label_column=label_column,
        label=version["ref"],
        champion=champion,
        slices=slices,
    )
    if not report.passed:
        raise CheckFailed(
            f"{version['ref']} fails validation on {report.data_address}: {'; '.join(report.failed)} "
            f"(report {report.id})"
        )
    return {**version, "validation_report": report.id}


def _check_parity(ctx: GateContext, version: Any) -> dict[str, Any]:
    report = ctx.client.validation.check_parity(project=ctx.project, package=version["package"])
    if not report.passed:
        where = ", ".join(f"{m.feature} row {m.row}" for m in report.mismatches[:5])
        raise CheckFailed(
            f"{version['ref']} fails training/serving parity: {report.mismatched} of {report.features} "
            f"features differ ({where}) {report.message}".rstrip()
        )
    return {**version, "parity": "passed"}


def _promote(ctx: GateContext, version: Any, to: str) -> dict[str, Any]:
    if not (isinstance(version, Mapping) and "ref" in version):
        raise InvalidInput("keel.gates.promote takes the output of keel.gates.register")
    done = ctx.client.models.promote(project=ctx.project, ref=version["ref"], to=to)
    return {
        "ref": version["ref"],
        "alias": to,
        "previous_version": done.previous_version,
        "kpis": done.gate.kpi_report.summary(),
    }


def _validate_data(ctx: GateContext, dataset: str, suite: Any) -> dict[str, Any]:
    name, _, version = dataset.partition("@")
    report = ctx.client.validation.validate(
        project=ctx.project, dataset=name, suite=suite, version=version or "latest", run=ctx.run_id
    )
    if not report.passed:
        failing = [f"{r.check}({r.column})" if r.column else r.check for r in report.failures()[:5]]
        raise CheckFailed(
            f"{report.address} fails suite {report.suite}: {report.failed} of {report.checks} checks "
            f"failed ({', '.join(failing)}); report {report.id}"
        )
    return {"report": report.id, "address": report.address, "checks": report.checks}


_REGISTER = GateStep(_register, name="register", cacheable=True)
_PROMOTE = GateStep(_promote, name="promote", cacheable=False)
_VALIDATE_DATA = GateStep(_validate_data, name="validate_data", cacheable=False)
_VALIDATE = GateStep(_validate, name="validate", cacheable=False)
_PARITY = GateStep(_check_parity, name="check_parity", cacheable=False)
#: The gates whose output is a registered version (what validate, check_parity and promote take).
_VERSIONED = (_REGISTER, _VALIDATE, _PARITY)


def _version_input(version: Any, gate: str) -> Output:
    if not isinstance(version, Output) or version.tracer.nodes[version.node].step not in _VERSIONED:
        raise InvalidInput(
            f"keel.gates.{gate} takes the output of keel.gates.register (or of validate / check_parity after it)"
        )
    return version


def register(model: Output, *, name: str, description: str = "", unsafe_pickle: bool = False) -> Output:
    """Package the model ``model`` (a step's output) and register it as a new version of ``name``."""
    if not isinstance(model, Output):
        raise InvalidInput("keel.gates.register takes a step's output (the trained model)")
    return _call(
        _REGISTER, {"model": model, "name": name, "description": description, "unsafe_pickle": unsafe_pickle}
    )


def promote(version: Output, *, to: str) -> Output:
    """Move alias ``to`` onto the version ``register`` made, if the project's KPI gate passes."""
    _version_input(version, "promote")
    if not to or not isinstance(to, str):
        raise InvalidInput("keel.gates.promote needs an alias: to='candidate'")
    return _call(_PROMOTE, {"version": version, "to": to})


def validate(
    version: Output,
    *,
    data: str,
    label_column: str,
    champion: str | None = None,
    slices: list[str] | None = None,
) -> Output:
    """Validate the registered version on the labelled table ``data`` (``name@latest``) and the project's KPIs.

    The validation capability measures it (metrics, KPIs, the ``champion`` on
    the same rows, slices, fairness) and stores the report, which the
    registry's promotion reads as evidence; a failing report stops the
    pipeline. Its output is the version again, for ``promote``.
    """
    _version_input(version, "validate")
    if not isinstance(data, str) or not data.split("@")[0]:
        raise InvalidInput(f"keel.gates.validate: data {data!r} is not a dataset address (name@latest)")
    if not label_column:
        raise InvalidInput("keel.gates.validate needs the label column: label_column='churned'")
    kwargs = {
        "version": version,
        "data": data,
        "label_column": label_column,
        "champion": champion,
        "slices": slices,
    }
    return _call(_VALIDATE, kwargs)


def check_parity(version: Output) -> Output:
    """Replay the package's recorded rows through its preprocessing as the server will; a mismatch stops the pipeline."""
    _version_input(version, "check_parity")
    return _call(_PARITY, {"version": version})


def validate_data(dataset: str, *, suite: Any) -> Output:
    """Check ``dataset`` (``name@v3``, ``name@latest``) against ``suite``; a failing report stops the pipeline."""
    if not isinstance(dataset, str) or not dataset.split("@")[0]:
        raise InvalidInput(f"keel.gates.validate_data: {dataset!r} is not a dataset address (name@latest)")
    return _call(_VALIDATE_DATA, {"dataset": dataset, "suite": suite})
