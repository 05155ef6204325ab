"""Gates as steps: register a model, promote it, check a data version; a failed gate stops the pipeline.

Inside a ``@keel.pipeline`` function::

    model = train(prepare(raw), lr=lr)
    ok = keel.gates.validate_data("churn-train@latest", suite=suite)
    version = keel.gates.register(model, name="churn").after(ok)
    keel.gates.promote(version, to="candidate")

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
    return {"model": name, "version": version.number, "ref": f"{name}@{version.number}", "id": version.id}


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


def register(model: Output, *, name: str, description: str = "", unsafe_pickle: bool = False) -> Output:
    """Package the model ``model`` (a step's output) and register it as a new version of ``name``."""
    if not isinstance(model, Output):
        raise InvalidInput("keel.gates.register takes a step's output (the trained model)")
    return _call(
        _REGISTER, {"model": model, "name": name, "description": description, "unsafe_pickle": unsafe_pickle}
    )


def promote(version: Output, *, to: str) -> Output:
    """Move alias ``to`` onto the version ``register`` made, if the project's KPI gate passes."""
    if not isinstance(version, Output) or version.tracer.nodes[version.node].step is not _REGISTER:
        raise InvalidInput("keel.gates.promote takes the output of keel.gates.register")
    if not to or not isinstance(to, str):
        raise InvalidInput("keel.gates.promote needs an alias: to='candidate'")
    return _call(_PROMOTE, {"version": version, "to": to})


def validate_data(dataset: str, *, suite: Any) -> Output:
    """Check ``dataset`` (``name@v3``, ``name@latest``) against ``suite``; a failing report stops the pipeline."""
    if not isinstance(dataset, str) or not dataset.split("@")[0]:
        raise InvalidInput(f"keel.gates.validate_data: {dataset!r} is not a dataset address (name@latest)")
    return _call(_VALIDATE_DATA, {"dataset": dataset, "suite": suite})
