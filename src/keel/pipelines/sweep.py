"""Sweeps: run a pipeline over a parameter space, within a budget, each trial a child run; rank them.

``run_sweep(churn, client, project="churn", space={"lr": "loguniform(1e-3,1)"}, sampler="tpe", trials=16)``
runs up to ``trials`` pipeline runs (``jobs`` at once), each a child run of
one sweep run, and stops starting new ones when the time budget
(``budget_time_s``) or the cost budget (``budget_cost``: the sum of the
trials' run cost, duration x ``hourly_price``, in the runs' currency) is
spent. A trial's score is the ``objective`` metric its steps logged (the
project's primary KPI by default, in that KPI's direction). The
leaderboard ranks trials by score and also gives score per unit of cost.

Samplers: ``grid`` (every combination of ``choice(...)`` and ``int(a,b)``
values, in order), ``random`` (seeded) and ``tpe`` (Optuna's TPE, when
``optuna`` is installed: ``pip install 'keel[sweep]'``). With ``tpe``,
trials are pruned by Optuna's median pruner on the objective's
intermediate values: after each finished step, the points of the objective
metric it logged are reported, and a pruned trial stops before its later
steps (its run ends FAILED, marked pruned). Pruning is therefore between
steps, not inside a running step.

Space syntax (a string, or a list for a fixed choice): ``uniform(a,b)``,
``loguniform(a,b)`` (a > 0), ``int(a,b)`` (inclusive), ``choice(x,y,...)``.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from keel.core.errors import InvalidInput, KeelError
from keel.pipelines.executors import make_executor
from keel.pipelines.pipeline import Pipeline, Plan
from keel.pipelines.run import StepResult, StopPipeline, _Driver

SAMPLERS = ("grid", "random", "tpe")


@dataclass(frozen=True)
class Dimension:
    """One parameter's range: ``kind`` is uniform, loguniform, int or choice."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[Any, ...] = ()


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(f"{where}: {text!r} is not a number") from None


def _literal(text: str) -> Any:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip("'\"")


def parse_dimension(name: str, spec: Any) -> Dimension:
    """``lr=loguniform(1e-3,1)`` and friends; raises InvalidInput naming the parameter and what is wrong."""
    where = f"--param {name}"
    if isinstance(spec, list | tuple):
        if not spec:
            raise InvalidInput(f"{where}: an empty list of choices")
        return Dimension(name, "choice", choices=tuple(spec))
    if not isinstance(spec, str) or "(" not in spec or not spec.endswith(")"):
        raise InvalidInput(f"{where}: write uniform(a,b), loguniform(a,b), int(a,b) or choice(x,y,...)")
    kind, _, body = spec[:-1].partition("(")
    kind, args = kind.strip(), [a for a in body.split(",") if a.strip()]
    if kind == "choice":
        if not args:
            raise InvalidInput(f"{where}: choice() needs at least one value")
        return Dimension(name, "choice", choices=tuple(_literal(a) for a in args))
    if kind not in ("uniform", "loguniform", "int") or len(args) != 2:
        raise InvalidInput(f"{where}: write uniform(a,b), loguniform(a,b), int(a,b) or choice(x,y,...)")
    low, high = (_number(a, where) for a in args)
    if not low < high:
        raise InvalidInput(f"{where}: the low end {low:g} must be below the high end {high:g}")
    if kind == "loguniform" and low <= 0:
        raise InvalidInput(f"{where}: loguniform needs a positive low end, not {low:g}")
    if kind == "int" and (low != int(low) or high != int(high)):
        raise InvalidInput(f"{where}: int(a,b) takes whole numbers")
    return Dimension(name, kind, low, high)


def _grid(dims: Sequence[Dimension]) -> list[dict[str, Any]]:
    axes: list[list[Any]] = []
    for d in dims:
        if d.kind == "choice":
            axes.append(list(d.choices))
        elif d.kind == "int":
            axes.append(list(range(int(d.low), int(d.high) + 1)))
        else:
            raise InvalidInput(
                f"--param {d.name}: a grid needs choice(...) or int(a,b), not a {d.kind} range"
            )
    return [dict(zip([d.name for d in dims], combo, strict=True)) for combo in itertools.product(*axes)]


def _draw(d: Dimension, rng: random.Random) -> Any:
    if d.kind == "choice":
        return rng.choice(d.choices)
    if d.kind == "int":
        return rng.randint(int(d.low), int(d.high))
    if d.kind == "loguniform":
        return math.exp(rng.uniform(math.log(d.low), math.log(d.high)))
    return rng.uniform(d.low, d.high)


@dataclass
class Trial:
    """One pipeline run of the sweep."""

    number: int
    params: dict[str, Any]
    status: str = "PENDING"
    score: float | None = None
    cost: float | None = None
    pipeline_run_id: str | None = None
    run_id: str | None = None
    error: str | None = None

    @property
    def score_per_cost(self) -> float | None:
        if self.score is None or not self.cost:
            return None
        return self.score / self.cost


@dataclass
class SweepResult:
    """The sweep's parent run, its trials, why it stopped, and the leaderboard."""

    run_id: str
    objective: str
    direction: str
    trials: list[Trial]
    stopped_by: str
    spent_cost: float
    elapsed_s: float
    leaderboard: list[Trial] = field(default_factory=list)


class _Sampler:
    def __init__(self, kind: str, dims: list[Dimension], trials: int, seed: int, direction: str) -> None:
        self.kind, self.dims = kind, dims
        self.rng = random.Random(seed)
        self.grid = _grid(dims) if kind == "grid" else None
        self.study: Any = None
        self.lock = threading.Lock()
        if kind == "tpe":
            try:
                import optuna
            except ImportError:
                raise InvalidInput(
                    "sampler 'tpe' needs Optuna", hint="pip install 'keel[sweep]' (or use --sampler random)"
                ) from None
            optuna.logging.set_verbosity(optuna.logging.WARNING)
            self.study = optuna.create_study(
                direction="maximize" if direction == "maximize" else "minimize",
                sampler=optuna.samplers.TPESampler(seed=seed),
                pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
            )

    def size(self, trials: int) -> int:
        return min(trials, len(self.grid)) if self.grid is not None else trials

    def ask(self, number: int) -> tuple[dict[str, Any], Any]:
        with self.lock:
            if self.grid is not None:
                return dict(self.grid[number]), None
            if self.study is None:
                return {d.name: _draw(d, self.rng) for d in self.dims}, None
            trial = self.study.ask()
            params: dict[str, Any] = {}
            for d in self.dims:
                if d.kind == "choice":
                    params[d.name] = trial.suggest_categorical(d.name, list(d.choices))
                elif d.kind == "int":
                    params[d.name] = trial.suggest_int(d.name, int(d.low), int(d.high))
                else:
                    params[d.name] = trial.suggest_float(d.name, d.low, d.high, log=d.kind == "loguniform")
            return params, trial

    def report(self, handle: Any, points: list[tuple[int, float]]) -> bool:
        """Report intermediate values; whether the trial should stop (pruned)."""
        if handle is None or not points:
            return False
        with self.lock:
            for step, value in points:
                handle.report(value, step)
            return bool(handle.should_prune())

    def tell(self, handle: Any, score: float | None, pruned: bool) -> None:
        if handle is None:
            return
        import optuna

        with self.lock:
            if pruned:
                self.study.tell(handle, state=optuna.trial.TrialState.PRUNED)
            elif score is None:
                self.study.tell(handle, state=optuna.trial.TrialState.FAIL)
            else:
                self.study.tell(handle, score)


def _objective(client: Any, project: str, objective: str | None, direction: str | None) -> tuple[str, str]:
    """The metric to rank by and its direction: as given, else the project's primary (first) KPI."""
    if direction is not None and direction not in ("maximize", "minimize"):
        raise InvalidInput(f"direction must be maximize or minimize, not {direction!r}")
    if objective is not None:
        return objective, direction or "maximize"
    kpis = client.projects.get(project).kpis
    if not kpis:
        raise InvalidInput(
            f"project {project} has no KPI to rank trials by",
            hint="pass --objective METRIC (and --direction)",
        )
    kpi = kpis[0]
    return kpi.metric_key, direction or ("minimize" if kpi.comparator in ("<", "<=") else "maximize")


def _score(client: Any, driver: _Driver, objective: str) -> float | None:
    found: float | None = None
    for name in driver.plan.order:
        res = driver.results[name]
        metrics = res.metrics
        if not metrics and res.cached and res.source_run_id:
            metrics = {k: float(v) for k, v in client.runs.get(res.source_run_id).metrics.items()}
        if objective in metrics:
            found = float(metrics[objective])
    return found


def run_sweep(
    pipeline: Pipeline,
    client: Any,
    *,
    project: str,
    space: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    sampler: str = "random",
    trials: int = 8,
    jobs: int = 1,
    budget_time_s: float | None = None,
    budget_cost: float | None = None,
    hourly_price: float | None = None,
    objective: str | None = None,
    direction: str | None = None,
    seed: int = 0,
    target: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
) -> SweepResult:
    """Run the sweep; see the module docstring. Everything is checked before the first trial starts.

    Raises InvalidInput for a bad space, sampler, budget (one already spent:
    zero or less) or a parameter the pipeline does not take.
    """
    if not isinstance(pipeline, Pipeline):
        raise InvalidInput(f"{pipeline!r} is not a pipeline: decorate it with @keel.pipeline")
    if sampler not in SAMPLERS:
        raise InvalidInput(f"unknown sampler {sampler!r}: choose {', '.join(SAMPLERS)}")
    if not 1 <= trials <= 10_000:
        raise InvalidInput(f"--trials must be between 1 and 10000, not {trials}")
    if jobs < 1:
        raise InvalidInput(f"--jobs must be at least 1, not {jobs}")
    for what, budget in (("--budget-time", budget_time_s), ("--budget-cost", budget_cost)):
        if budget is not None and not budget > 0:
            raise InvalidInput(f"{what} {budget:g} is already spent: give a positive budget")
    if budget_cost is not None and not hourly_price:
        raise InvalidInput("--budget-cost needs --hourly-price: a run's cost is its duration x that price")
    if not space:
        raise InvalidInput("a sweep needs at least one --param NAME=RANGE")
    dims = [parse_dimension(name, spec) for name, spec in space.items()]
    fixed = dict(params or {})
    clash = sorted(set(fixed) & set(space))
    if clash:
        raise InvalidInput(f"parameter {clash[0]!r} is both fixed and swept")
    objective, direction = _objective(client, project, objective, direction)
    chooser = _Sampler(sampler, dims, trials, seed, direction)
    total = chooser.size(trials)
    first, _ = (
        chooser.ask(0) if sampler != "tpe" else ({d.name: _draw(d, random.Random(seed)) for d in dims}, None)
    )
    plan = pipeline.plan({**fixed, **first})  # static checks (types, ranges, names) before anything runs
    steps = {n: plan.nodes[n].step for n in plan.nodes}
    shared = (
        make_executor(executor, jobs, steps, ray_address) if executor == "ray" or jobs > 1 else None
    )  # connected (or refused) before the sweep's run is recorded
    parent = client.runs.create(
        project=project,
        name=f"sweep {pipeline.name}",
        params={"sampler": sampler, "trials": total, "objective": objective, "direction": direction},
        tags={"keel.sweep": pipeline.name},
    )
    started, spent, stopped_by = time.monotonic(), 0.0, "trials"
    done: list[Trial] = []
    lock = threading.Lock()

    def one(number: int) -> Trial:
        values, handle = chooser.ask(number)
        trial = Trial(number, values)
        try:
            trial_plan: Plan = pipeline.plan({**fixed, **values})
        except InvalidInput as exc:  # a drawn value outside the pipeline's declared range
            trial.status, trial.error = "FAILED", exc.message
            chooser.tell(handle, None, False)
            return trial
        driver = _Driver(client, project, trial_plan, no_cache=False, rerun=set(), jobs=1, executor="local")
        driver.parent_of_run, driver.hourly_price, driver.shared_executor = parent.id, hourly_price, shared

        def on_step(res: StepResult) -> None:
            curve = sorted((step, value) for key, value, step, _ in res.points if key == objective)
            if chooser.report(handle, curve):
                raise StopPipeline(
                    f"pruned by the sweep after step {res.name} ({objective} {curve[-1][1]:.4g})"
                )

        driver.on_step = on_step
        try:
            result = driver.run(target or pipeline.name)
            trial.status, trial.pipeline_run_id, trial.run_id = "FINISHED", result.id, result.run_id
            trial.score = _score(client, driver, objective)
        except KeelError as exc:
            trial.status = "PRUNED" if driver.stopped else "FAILED"
            trial.error = driver.stopped or exc.message
            trial.pipeline_run_id = getattr(driver, "pipeline_run_id", None)
            trial.run_id = getattr(driver, "parent_run_id", None)
        if trial.run_id is not None and hourly_price:
            trial.cost = client.runs.get(trial.run_id).cost
        chooser.tell(handle, trial.score, trial.status == "PRUNED")
        return trial

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="keel-sweep")
    try:
        running: set[Future[Trial]] = set()
        number = 0
        while number < total or running:
            while number < total and len(running) < jobs:
                elapsed = time.monotonic() - started
                if budget_time_s is not None and elapsed >= budget_time_s:
                    stopped_by = "time"
                    break
                if budget_cost is not None and spent >= budget_cost:
                    stopped_by = "cost"
                    break
                running.add(pool.submit(one, number))
                number += 1
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                trial = fut.result()
                with lock:
                    done.append(trial)
                    spent += trial.cost or 0.0
            if stopped_by != "trials":
                total = number  # start nothing more; let the running ones finish
    finally:
        pool.shutdown(wait=True)
        if shared is not None:
            shared.close()
    done.sort(key=lambda t: t.number)
    scored = [t for t in done if t.score is not None]
    board = sorted(scored, key=lambda t: -(t.score or 0.0) if direction == "maximize" else (t.score or 0.0))
    ok = any(t.status == "FINISHED" for t in done)
    if board:
        best = board[0]
        client.runs.log_batch(
            run_id=parent.id,
            metrics=[(f"best_{objective}", best.score, 0, int(time.time() * 1000))],
            tags={"keel.best_trial": str(best.number), "keel.stopped_by": stopped_by},
        )
    client.runs.end(run_id=parent.id, status="FINISHED" if ok else "FAILED")
    return SweepResult(
        run_id=parent.id,
        objective=objective,
        direction=direction,
        trials=done,
        stopped_by=stopped_by,
        spent_cost=spent,
        elapsed_s=time.monotonic() - started,
        leaderboard=board,
    )
