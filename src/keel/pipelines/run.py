"""Run a planned pipeline: cache lookups, executor calls, storage of outputs, tracking and lineage.

The driver walks the DAG as steps become ready. For each step it computes
the cache key from its code, params and inputs' digests; a key the project's
cache knows (and whose object the artifact store still has) is a hit: the
step is skipped and shown as cached, and its value is downloaded only if a
step that must run needs it. A miss becomes a child run of the pipeline's
parent run; its result is checked against the declared return type,
encoded, stored in the artifact store by digest, entered in the cache and
tied to its inputs by lineage edges. When a step fails, the steps already
running finish and keep (and cache) their outputs, nothing new starts, and
the pipeline fails naming that step and why.

``client`` is a Keel SDK client (local or remote): this module reaches
storage only through its services, so it never imports upward.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from blake3 import blake3

from keel.core.errors import InvalidInput, KeelError, StepFailed
from keel.core.operations import ByteStream
from keel.pipelines.cache import cache_key, canonical, code_digest
from keel.pipelines.check import check_output
from keel.pipelines.define import Node
from keel.pipelines.encode import decode, encode
from keel.pipelines.executors import EXECUTORS, Outcome, make_executor
from keel.pipelines.gates import GateContext, GateStep
from keel.pipelines.lock import locked_steps, read_lock, write_lock
from keel.pipelines.pipeline import Pipeline, Plan
from keel.pipelines.schemas import StepPlan, StepUpdate
from keel.pipelines.shell import ShellStep, input_digests, restore
from keel.pipelines.steplog import final_metrics


@dataclass
class StepResult:
    """What became of one step in this run."""

    name: str
    status: str = "PENDING"
    cached: bool = False
    cache_key: str | None = None
    digest: str | None = None
    format: str | None = None
    run_id: str | None = None
    duration_s: float | None = None
    error: str | None = None
    #: For a cached step, the run that computed the output it reuses (its metrics and models live there).
    source_run_id: str | None = None
    #: The metrics the step logged in this run, each key's last value.
    metrics: dict[str, float] = field(default_factory=dict)
    #: Every point it logged (key, value, step, Unix ms), for a sweep's pruner.
    points: list[tuple[str, float, int, int]] = field(default_factory=list, repr=False)
    #: What the lock file records: input digests by argument (or file path), and the step's files.
    inputs: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


@dataclass
class PipelineResult:
    """A finished pipeline run: its id, its parent run and every step's result."""

    id: str
    #: The parent tracking run; None for a fully cached run (nothing ran, so no run was made).
    run_id: str | None
    status: str
    steps: dict[str, StepResult]
    results: list[str]
    _client: Any = field(repr=False)
    _project: str = field(repr=False)

    def value(self, step: str) -> Any:
        """The output of ``step``, read back from the artifact store."""
        res = self.steps.get(step)
        if res is None or res.digest is None or res.format is None:
            raise InvalidInput(f"step {step!r} has no output in pipeline run {self.id}")
        return decode(_download(self._client, self._project, res.digest), res.format)


def _download(client: Any, project: str, digest: str) -> bytes:
    body = client.artifacts.download(project=project, digest=digest)
    return body.read_all() if isinstance(body, ByteStream) else b"".join(body)


def _run_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Params as tracking stores them: scalars as they are, anything else as canonical JSON text."""
    return {
        k: v if v is None or isinstance(v, int | float | bool | str) else canonical(v)
        for k, v in params.items()
    }


class _Driver:
    def __init__(
        self,
        client: Any,
        project: str,
        plan: Plan,
        *,
        no_cache: bool,
        rerun: set[str],
        jobs: int,
        executor: str,
    ) -> None:
        self.client, self.project, self.plan = client, project, plan
        self.no_cache, self.rerun = no_cache, rerun
        self.jobs, self.executor_kind = jobs, executor
        self.results = {name: StepResult(name) for name in plan.order}
        self.values: dict[str, Any] = {}
        self.codes: dict[int, str] = {}
        self.done: queue.Queue[tuple[str, Outcome]] = queue.Queue()
        self.started: dict[str, float] = {}
        self.failed: StepResult | None = None
        self.lock: Path | None = None
        #: The lock file's content as read before the run, and this pipeline's step entries in it.
        self.lock_data: dict[str, Any] | None = None
        self.lock_steps: dict[str, dict[str, Any]] = {}
        self.pending: list[StepUpdate] = []
        #: Cache answers already fetched: key -> (digest, format, run that made it); keys asked and not found.
        self.known: dict[str, tuple[str, str, str | None]] = {}
        self.asked: set[str] = set()
        #: Set by a sweep: the run this pipeline's run is a child of, its hourly price, a shared executor,
        #: and a hook told of each finished step (raising StopPipeline from it stops the pipeline there).
        self.parent_of_run: str | None = None
        self.hourly_price: float | None = None
        self.shared_executor: Any = None
        self.on_step: Callable[[StepResult], None] | None = None
        self.stopped: str | None = None
        self.parent_run_id: str | None = None
        self.target = plan.pipeline

    def code(self, node: Node) -> str:
        key = id(node.step)
        if key not in self.codes:
            st = node.step
            if isinstance(st, ShellStep):
                recipe = canonical({"cmd": st.cmd, "inputs": st.inputs, "outputs": st.outputs})
                self.codes[key] = blake3(recipe.encode()).hexdigest()
            else:
                self.codes[key] = code_digest(st)
        return self.codes[key]

    def store_files(self, paths: Iterable[str]) -> dict[str, str]:
        """Upload a shell step's output files; ``{path: digest}``."""
        files: dict[str, str] = {}
        for path in paths:
            data = Path(path).read_bytes()
            info = self.client.artifacts.upload(project=self.project, data=ByteStream([data], size=len(data)))
            files[path] = info.digest
        return files

    def value_of(self, name: str) -> Any:
        if name not in self.values:
            res = self.results[name]
            assert res.digest is not None and res.format is not None
            self.values[name] = decode(_download(self.client, self.project, res.digest), res.format)
        return self.values[name]

    def record(self, res: StepResult, inputs: Iterable[str] = (), *, now: bool = True) -> None:
        """Queue what became of a step; sent at once (``now``) or with the next batch (cached steps)."""
        self.pending.append(
            StepUpdate(
                name=res.name,
                status=res.status,
                cached=res.cached,
                cache_key=res.cache_key,
                output_digest=res.digest,
                output_format=res.format,
                run_id=res.run_id,
                duration_s=res.duration_s,
                error=res.error,
                inputs=sorted(set(inputs)),
            )
        )
        if now:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            self.client.pipelines.record_steps(
                project=self.project, pipeline_run_id=self.pipeline_run_id, steps=batch
            )

    def prefetch(self, keys: Iterable[str]) -> None:
        """Look up, in one call, the keys the lock file predicts (a cached re-run then asks nothing more)."""
        wanted = sorted(set(keys))
        if wanted and not self.no_cache:
            for entry in self.client.pipelines.cache_lookup(project=self.project, keys=wanted):
                self.known[entry.cache_key] = (entry.output_digest, entry.output_format, entry.run_id)
            self.asked.update(wanted)

    def cached_entry(self, key: str) -> tuple[str, str, str | None] | None:
        if key in self.known:
            return self.known[key]
        if key in self.asked:
            return None
        entries = self.client.pipelines.cache_lookup(project=self.project, keys=[key])
        return (entries[0].output_digest, entries[0].output_format, entries[0].run_id) if entries else None

    def locked_files(self, name: str, res: StepResult) -> dict[str, str] | None:
        """A cached shell step's ``{path: digest}`` from the lock file, if it is exactly the cached value.

        The lock is a file anyone may edit, so its entry is used only when the
        digest of its encoding is the cache entry's digest; otherwise the value
        is downloaded. This spares a cached re-run one download per step.
        """
        entry = self.lock_steps.get(name)
        files = entry.get("outputs") if entry is not None and entry.get("key") == res.cache_key else None
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            return None
        data, fmt = encode(files)
        if fmt != res.format or blake3(data).hexdigest() != res.digest:
            return None
        return {str(k): v for k, v in files.items()}

    def start_step(self, node: Node, executor: Any) -> None:
        res = self.results[node.name]
        digests = {arg: self.results[src].digest or "" for arg, src in sorted(node.inputs.items())}
        digests.update({f"file:{path}": d for path, d in input_digests(node).items()})
        res.inputs = digests
        res.cache_key = cache_key(node, self.code(node), digests)
        gate = node.step if isinstance(node.step, GateStep) else None
        if not self.no_cache and node.name not in self.rerun and (gate is None or gate.cacheable):
            hit = self.cached_entry(res.cache_key)
            if hit is not None:
                res.digest, res.format, res.source_run_id = hit
                if isinstance(node.step, ShellStep):
                    res.files = self.locked_files(node.name, res) or dict(self.value_of(node.name))
                    restore(res.files, lambda d: _download(self.client, self.project, d))
                res.status, res.cached, res.duration_s = "CACHED", True, 0.0
                self.record(res, now=False)
                self.done.put((node.name, ("cached", None)))
                return
        run = self.client.runs.create(
            project=self.project,
            name=node.name,
            parent_id=self.parent_run(),
            params=_run_params(node.params),
            tags={
                "keel.step": node.step.name,
                "keel.pipeline": self.plan.pipeline,
                "keel.cache_key": res.cache_key,
            },
        )
        res.run_id, res.status = run.id, "RUNNING"
        kwargs = dict(node.params)
        for arg, src in node.inputs.items():
            kwargs[arg] = self.value_of(src)
        self.started[node.name] = time.perf_counter()
        if gate is not None:  # gates act through this process's client, never in a worker
            self.done.put((node.name, self.run_gate(node, gate, run.id, kwargs)))
            return
        executor.submit(node.name, kwargs, lambda name, outcome: self.done.put((name, outcome)))

    def tell(self, res: StepResult) -> None:
        """Give the sweep's hook a finished step; it may stop the pipeline (a pruned trial)."""
        if self.on_step is None or self.failed is not None:
            return
        try:
            self.on_step(res)
        except StopPipeline as stop:
            res.error = str(stop)
            self.failed, self.stopped = res, str(stop)

    def run_gate(self, node: Node, gate: GateStep, run_id: str, kwargs: dict[str, Any]) -> Outcome:
        producers: dict[str, tuple[str | None, dict[str, float]]] = {}
        for arg, src in node.inputs.items():
            made = self.results[src]
            source = made.run_id or made.source_run_id
            metrics = made.metrics or (
                {k: float(v) for k, v in self.client.runs.get(source).metrics.items()} if source else {}
            )
            producers[arg] = (source, metrics)
        ctx = GateContext(
            client=self.client,
            project=self.project,
            pipeline=self.plan.pipeline,
            pipeline_run_id=self.pipeline_run_id,
            run_id=run_id,
            producers=producers,
        )
        try:
            return "ok", (gate.run_gate(ctx, kwargs), [])
        except KeelError as exc:
            return "error", (exc.message, "")
        except Exception as exc:
            return "error", (f"{type(exc).__name__}: {exc}", "")

    def finish_step(self, node: Node, outcome: Outcome) -> None:
        res = self.results[node.name]
        kind, payload = outcome
        if kind == "cached":
            return
        res.duration_s = time.perf_counter() - self.started.pop(node.name)
        inputs = [self.results[src].digest or "" for src in node.inputs.values()]
        try:
            if kind == "error":
                raise _StepError(payload[0])
            payload, points = payload
            if points:
                self.client.runs.log_batch(run_id=res.run_id, metrics=points)
                res.metrics, res.points = final_metrics(points), list(points)
            check_output(node, payload)
            if isinstance(node.step, ShellStep):
                payload = res.files = self.store_files(sorted(payload))
            data, fmt = encode(payload)
            info = self.client.artifacts.upload(project=self.project, data=ByteStream([data], size=len(data)))
            res.digest, res.format, res.status = info.digest, fmt, "FINISHED"
            self.values[node.name] = payload
        except (_StepError, KeelError) as exc:
            res.status = "FAILED"
            res.error = exc.message if isinstance(exc, KeelError) else str(exc)
            if self.failed is None:
                self.failed = res
        self.record(res, inputs)
        self.client.runs.end(run_id=res.run_id, status="FINISHED" if res.status == "FINISHED" else "FAILED")

    def write_lock(self, path: Path) -> None:
        """Each step that has an output: its key, inputs' and outputs' digests (and command), for git."""
        entries: dict[str, dict[str, Any]] = {}
        for name in self.plan.order:
            res, st = self.results[name], self.plan.nodes[name].step
            if res.status not in ("FINISHED", "CACHED") or res.digest is None:
                continue
            entry: dict[str, Any] = {"key": res.cache_key, "inputs": dict(sorted(res.inputs.items()))}
            if isinstance(st, ShellStep):
                entry["cmd"] = st.cmd
                entry["outputs"] = dict(sorted(res.files.items()))
            else:
                entry["params"] = _run_params(self.plan.nodes[name].params)
                entry["outputs"] = {"value": res.digest, "format": res.format}
            entries[name] = entry
        write_lock(path, self.plan.pipeline, entries, self.lock_data)

    def parent_run(self) -> str:
        """The pipeline's parent tracking run, created when the first step must run.

        A fully cached re-run runs nothing, so it makes no tracking run (its
        pipeline run records every step as cached); a sweep's trials make theirs
        at once, as the sweep's children.
        """
        if self.parent_run_id is None:
            plan = self.plan
            parent = self.client.runs.create(
                project=self.project,
                name=plan.pipeline,
                params=_run_params(plan.params),
                tags={"keel.pipeline": plan.pipeline, "keel.target": self.target},
                parent_id=self.parent_of_run,
                hourly_price=self.hourly_price,
            )
            self.parent_run_id = parent.id
        return self.parent_run_id

    def run(self, target: str) -> PipelineResult:
        plan = self.plan
        self.target = target
        if self.parent_of_run is not None:
            self.parent_run()
        record = self.client.pipelines.start(
            project=self.project,
            pipeline=plan.pipeline,
            target=target,
            params=_run_params(plan.params),
            run_id=self.parent_run_id,
            steps=[
                StepPlan(
                    name=n,
                    upstream=sorted(plan.nodes[n].depends_on()),
                    params=_run_params(plan.nodes[n].params),
                )
                for n in plan.order
            ],
        )
        self.pipeline_run_id = record.id
        if self.lock is not None:
            self.prefetch(str(e["key"]) for e in self.lock_steps.values())
        executor = self.shared_executor or make_executor(
            self.executor_kind, self.jobs, {n: plan.nodes[n].step for n in plan.nodes}
        )
        sorter = TopologicalSorter({n.name: n.depends_on() for n in plan.nodes.values()})
        sorter.prepare()
        in_flight = 0
        try:
            while sorter.is_active():
                if self.failed is None:
                    for name in sorter.get_ready():
                        in_flight += 1
                        self.start_step(plan.nodes[name], executor)
                if in_flight == 0:
                    break
                name, outcome = self.done.get()
                in_flight -= 1
                self.finish_step(plan.nodes[name], outcome)
                if self.results[name].status in ("FINISHED", "CACHED"):
                    sorter.done(name)
                    self.tell(self.results[name])
        except BaseException as exc:
            self._end("FAILED", None, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if executor is not self.shared_executor:
                executor.close()
        if self.lock is not None:
            self.write_lock(self.lock)
        if self.failed is not None:
            self._end("FAILED", self.failed.name, self.failed.error)
            done = [r.name for r in self.results.values() if r.status in ("FINISHED", "CACHED")]
            raise StepFailed(
                f"step {self.failed.name} failed: {self.failed.error}",
                hint=f"kept and cached: {', '.join(done) or 'nothing'}; `keel pipeline show {self.pipeline_run_id}`",
                pipeline_run=self.pipeline_run_id,
                step=self.failed.name,
            )
        self._end("FINISHED", None, None)
        return PipelineResult(
            self.pipeline_run_id,
            self.parent_run_id,
            "FINISHED",
            self.results,
            plan.results,
            self.client,
            self.project,
        )

    def _end(self, status: str, failed_step: str | None, error: str | None) -> None:
        self.flush()
        for res in self.results.values():
            if res.status == "PENDING":
                res.status = "SKIPPED"
        self.client.pipelines.finish(
            project=self.project,
            pipeline_run_id=self.pipeline_run_id,
            status=status,
            failed_step=failed_step,
            error=error,
            run_id=self.parent_run_id,
        )
        if self.parent_run_id is not None:
            self.client.runs.end(run_id=self.parent_run_id, status=status)


class _StepError(Exception):
    pass


class StopPipeline(Exception):
    """Raised by a step hook to stop the pipeline after that step (a pruned sweep trial)."""


def run_pipeline(
    pipeline: Pipeline,
    client: Any,
    *,
    project: str,
    params: Mapping[str, Any] | None = None,
    executor: str = "local",
    jobs: int = 1,
    no_cache: bool = False,
    rerun: Iterable[str] = (),
    target: str | None = None,
    lock: str | Path | None = None,
    ray_address: str | None = None,
) -> PipelineResult:
    """Plan (all static checks first: nothing is recorded for a bad pipeline), then run.

    Raises InvalidInput for a bad plan, parameter or option, and StepFailed
    (exit 1) when a step raises or returns the wrong type. With ``lock``, the
    lock file there gets this pipeline's steps (even after a failure: the
    steps that finished).
    """
    if not isinstance(pipeline, Pipeline):
        raise InvalidInput(f"{pipeline!r} is not a pipeline: decorate it with @keel.pipeline")
    plan = pipeline.plan(params)
    rerun_set = set(plan.check_steps(rerun, "--rerun"))
    if jobs < 1:
        raise InvalidInput(f"--jobs must be at least 1, not {jobs}")
    if executor not in EXECUTORS:
        raise InvalidInput(f"unknown executor {executor!r}: choose {' or '.join(EXECUTORS)}")
    if ray_address is not None and executor != "ray":
        raise InvalidInput("--ray-address goes with --executor ray")
    driver = _Driver(client, project, plan, no_cache=no_cache, rerun=rerun_set, jobs=jobs, executor=executor)
    driver.lock = Path(lock) if lock is not None else None
    if driver.lock is not None:
        driver.lock_data = read_lock(
            driver.lock
        )  # a file that is not a Keel lock is refused before anything runs
        driver.lock_steps = locked_steps(driver.lock_data, plan.pipeline)
    if executor == "ray":  # connected (or refused) before anything is recorded
        driver.shared_executor = make_executor(
            "ray", jobs, {n: plan.nodes[n].step for n in plan.nodes}, ray_address
        )
        try:
            return driver.run(target or pipeline.name)
        finally:
            driver.shared_executor.close()
    return driver.run(target or pipeline.name)
