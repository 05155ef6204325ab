"""Pipelines: Keel's CLI beside ``dvc repro`` on a 100-stage linear pipeline of trivial steps (issue 16).

Stage i copies ``data/s{i}.txt`` to ``data/s{i+1}.txt`` (``cp``): DVC runs it
from ``dvc.yaml``; Keel runs the same commands as shell steps with the same
declared inputs and outputs (and, as a second figure, as Python steps that
pass a small value along). Each tool is timed as a whole CLI process, on a
fresh repository per run (set-up not timed): the first run, then a fully
cached re-run. Medians of --runs runs, tools alternating; start-up
(``keel --version``, ``dvc --version``) is printed since every figure holds it.
DVC comes from benchmarks/.venv-peers (never a Keel dependency).

    python benchmarks/pipelines.py --runs 3 --stages 100

``--sweep`` times instead a 16-trial sweep of a pipeline whose one step burns
about ``--trial-s`` seconds of single-threaded CPU (``OMP_NUM_THREADS=1``): on
Ray with 2 CPUs (``--executor ray --jobs 2``) against the same sweep one trial
at a time in process (issue 16: at least 1.6x). Ray starts once, outside the
timing; each sweep runs on a fresh workspace with the cache cold.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
KEEL = str(Path(sys.executable).with_name("keel"))
DVC = str(HERE / ".venv-peers" / "bin" / "dvc")


def run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        )
    return took


def shell_pipeline(stages: int) -> str:
    lines = ["import keel", "", "", "@keel.pipeline", "def linear():"]
    for i in range(stages):
        lines.append(
            f"    keel.pipelines.shell('cp data/s{i}.txt data/s{i + 1}.txt', inputs=['data/s{i}.txt'], "
            f"outputs=['data/s{i + 1}.txt'], name='s{i + 1}')"
        )
    return "\n".join(["import keel.pipelines", *lines]) + "\n"


def python_pipeline(stages: int) -> str:
    body = [
        "import keel",
        "",
        "",
        "@keel.step",
        "def bump(x: int) -> int:",
        "    return x + 1",
        "",
        "",
        "@keel.pipeline",
        f"def linear(n: int = {stages}):",
        "    x = bump(0)",
        "    for _ in range(n - 1):",
        "        x = bump(x)",
        "    return x",
    ]
    return "\n".join(body) + "\n"


def dvc_yaml(stages: int) -> str:
    out = ["stages:"]
    for i in range(stages):
        out += [
            f"  s{i + 1}:",
            f"    cmd: cp data/s{i}.txt data/s{i + 1}.txt",
            f"    deps: [data/s{i}.txt]",
            f"    outs: [data/s{i + 1}.txt]",
        ]
    return "\n".join(out) + "\n"


def fresh(kind: str, stages: int, env: dict[str, str]) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"bench-pipe-{kind}-"))
    (root / "data").mkdir()
    (root / "data" / "s0.txt").write_text("hello\n")
    if kind == "dvc":
        run(["git", "init", "-q"], root, env)
        run([DVC, "init", "-q"], root, env)
        (root / "dvc.yaml").write_text(dvc_yaml(stages))
    else:
        run([KEEL, "init"], root, env)
        source = shell_pipeline(stages) if kind == "keel" else python_pipeline(stages)
        (root / "pipe.py").write_text(source)
    return root


def command(kind: str) -> list[str]:
    if kind == "dvc":
        return [DVC, "repro", "-q"]
    return [KEEL, "pipeline", "run", "pipe.py:linear"]


SWEEP_PIPELINE = """
import time

import keel.pipelines as kp


@kp.step
def burn(seconds: float, seed: int) -> float:
    end, x = time.process_time() + seconds, float(seed)
    while time.process_time() < end:
        for _ in range(10_000):
            x = (x * 1.000001 + 1.0) % 1000.0
    kp.log_metric("score", x)
    return x


@kp.pipeline
def trial(seconds: float = 2.0, seed: int = 0):
    return burn(seconds, seed)
"""


def sweep_benchmark(runs: int, trials: int, trial_s: float) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    from keel.client import connect
    from keel.pipelines.load import load_pipeline
    from keel.pipelines.sweep import run_sweep
    from keel.testing.fixtures import new_workspace

    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    (root / "sweep_pipe.py").write_text(SWEEP_PIPELINE)
    pipe = load_pipeline(f"{root / 'sweep_pipe.py'}:trial")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    times: dict[str, list[float]] = {"one at a time": [], "ray, 2 CPUs": []}
    try:
        for r in range(runs):
            for label in times if r % 2 == 0 else list(reversed(times)):
                client = connect(settings=new_workspace(root / f"ws-{r}-{label[:3]}"))
                client.projects.create(name="bench")
                start = time.perf_counter()
                result = run_sweep(
                    pipe,
                    client,
                    project="bench",
                    space={"seed": f"int(0,{trials - 1})"},
                    params={"seconds": trial_s},
                    sampler="grid",
                    trials=trials,
                    objective="score",
                    jobs=2 if label.startswith("ray") else 1,
                    executor="ray" if label.startswith("ray") else "local",
                )
                times[label].append(time.perf_counter() - start)
                assert len(result.trials) == trials and all(t.status == "FINISHED" for t in result.trials)
    finally:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"{trials}-trial sweep, trials of {trial_s:g} s CPU, median of {runs} runs (seconds)")
    for label, took in med.items():
        print(f"  {label:14s} {took:7.2f}")
    print(f"  speed-up on Ray: {med['one at a time'] / med['ray, 2 CPUs']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", type=int, default=100)
    parser.add_argument("--no-dvc", action="store_true", help="Keel only (the smoke test)")
    parser.add_argument(
        "--sweep", action="store_true", help="time a sweep on Ray against one trial at a time"
    )
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--trial-s", type=float, default=2.0)
    args = parser.parse_args()
    if args.sweep:
        sweep_benchmark(args.runs, args.trials, args.trial_s)
        return
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["DVC_NO_ANALYTICS"] = "1"
    env.setdefault("GIT_AUTHOR_NAME", "bench")
    env.setdefault("GIT_AUTHOR_EMAIL", "bench@example.com")
    kinds = ["keel", "keel-python"] + ([] if args.no_dvc else ["dvc"])
    times: dict[str, dict[str, list[float]]] = {k: {"first": [], "cached": []} for k in kinds}
    for r in range(args.runs):
        order = kinds if r % 2 == 0 else list(reversed(kinds))
        for kind in order:
            root = fresh(kind, args.stages, env)
            try:
                times[kind]["first"].append(run(command(kind), root, env))
                times[kind]["cached"].append(run(command(kind), root, env))
                if kind != "dvc":
                    assert (root / "keel.lock").exists()
                if kind != "keel-python":
                    assert (root / "data" / f"s{args.stages}.txt").read_text() == "hello\n"
            finally:
                shutil.rmtree(root, ignore_errors=True)
    startup: dict[str, Callable[[], float]] = {"keel": lambda: run([KEEL, "--version"], HERE, env)}
    if not args.no_dvc:
        startup["dvc"] = lambda: run([DVC, "--version"], HERE, env)
    print(f"{args.stages}-stage linear pipeline, median of {args.runs} runs (seconds, whole CLI processes)")
    for name, fn in startup.items():
        print(f"  start-up {name}: {statistics.median(fn() for _ in range(3)):.3f}")
    med = {k: {p: statistics.median(v) for p, v in t.items()} for k, t in times.items()}
    for kind in kinds:
        first, cached = med[kind]["first"], med[kind]["cached"]
        print(
            f"  {kind:12s} first {first:7.3f} ({1000 * first / args.stages:6.1f} ms/stage)   cached re-run {cached:7.3f}"
        )
    if "dvc" in med:
        for kind in ("keel", "keel-python"):
            print(
                f"  dvc / {kind}: first run {med['dvc']['first'] / med[kind]['first']:.2f}x, "
                f"cached re-run {med['dvc']['cached'] / med[kind]['cached']:.2f}x"
            )


if __name__ == "__main__":
    main()
