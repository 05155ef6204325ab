"""Model packages: Keel beside MLflow on the same fitted models (issue 12).

Models (fitted once here, on scikit-learn's breast-cancer table, 569 x 30, and
handed to both tools as the same pickled objects): a logistic regression
(StandardScaler + LogisticRegression pipeline), a 300-tree random forest and
a small PyTorch MLP (30 -> 64 -> 64 -> 2, an ``nn.Sequential``; its input
example is the table as float32).

For each model and each tool, in a fresh process on a fresh store (after one
untimed warm-up log in that process, so imports are not counted):

- log: Keel's ``run.log_model(model, name=, input_example=)`` (package with
  signature, input example and pinned requirements, upload as one tree,
  register a version) against MLflow's ``mlflow.sklearn.log_model(...,
  input_example=)`` + ``mlflow.register_model`` (cloudpickle for the forest,
  since its default skops format refuses ``sklearn.tree._tree.Tree``;
  ``mlflow.pytorch.log_model`` for the MLP); also
  MLflow given ``pip_requirements`` explicitly (which skips its inference);
- load: ``keel.models.load("name@N")`` (fetched, every file verified, trees
  vouched for) against ``mlflow.pyfunc.load_model("models:/name/N")``;
- size: bytes of the stored package against MLflow's model artifact folder.

Tools alternate, median of --runs (default 3). MLflow runs from its own
environment (benchmarks/.venv-peers, never a Keel dependency):

    python3 -m venv benchmarks/.venv-peers && benchmarks/.venv-peers/bin/pip install mlflow scikit-learn skops torch==2.13.0
    .venv/bin/python benchmarks/models.py             # the issue's sizes
    .venv/bin/python benchmarks/models.py --trees 10 --runs 1   # a smoke run

This file is also the worker (``--worker keel|mlflow MODELS.pkl``); only the
standard library is imported at the top, so the peers' Python can run it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_PYTHON = HERE / ".venv-peers" / "bin" / "python"


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def keel_worker(models: dict[str, Any], work: Path) -> dict[str, Any]:
    os.chdir(work)
    import keel
    import keel.models

    keel.init(project="bench", create=True)
    X = models.pop("_X")
    out: dict[str, Any] = {}
    with keel.start_run(name="bench", system_metrics=False, capture_env=False) as run:
        for label, model in models.items():
            example = X.head(5).to_numpy("float32") if label == "mlp" else X.head(5)
            run.log_model(model, name=f"warm-{label}", input_example=example)
            start = time.perf_counter()
            version = run.log_model(model, name=label, input_example=example)
            log_s = time.perf_counter() - start
            start = time.perf_counter()
            loaded = keel.models.load(f"{label}@{version.number}")
            load_s = time.perf_counter() - start
            loaded.predict(example)
            out[label] = {"log_s": log_s, "load_s": load_s, "size": version.size}
    return out


def mlflow_worker(models: dict[str, Any], work: Path) -> dict[str, Any]:
    os.chdir(work)
    import warnings

    warnings.filterwarnings("ignore")
    import mlflow
    import mlflow.sklearn

    if "mlp" in models:
        import mlflow.pytorch  # imported before timing, as Keel's worker warms up first

    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    X = models.pop("_X")
    X.columns = [str(c) for c in X.columns]  # a pandas 3 pickle's string columns, as this pandas' own
    out: dict[str, Any] = {}

    def log(model: Any, name: str, fmt: str | None, pins: list[str] | None) -> tuple[float, str]:
        start = time.perf_counter()
        if "mlp" in name:
            info = mlflow.pytorch.log_model(
                model, name="model", input_example=X.head(5).to_numpy("float32"), pip_requirements=pins
            )
        else:
            options: dict[str, Any] = {"serialization_format": fmt} if fmt else {}
            info = mlflow.sklearn.log_model(
                model, name="model", input_example=X.head(5), pip_requirements=pins, **options
            )
        version = mlflow.register_model(info.model_uri, name)
        return time.perf_counter() - start, str(version.version)

    with mlflow.start_run():
        for label, model in models.items():
            fmt = "cloudpickle" if label == "forest" else None  # the forest: skops refuses its trees
            log(model, f"warm-{label}", fmt, None)
            log_s, number = log(model, label, fmt, None)
            import sklearn

            pins = [f"scikit-learn=={sklearn.__version__}", f"mlflow=={mlflow.__version__}"]
            if label == "mlp":
                import torch

                pins = [f"torch=={torch.__version__.split('+')[0]}", f"mlflow=={mlflow.__version__}"]
            pinned_s, _ = log(model, f"{label}-pinned", fmt, pins)
            start = time.perf_counter()
            loaded = mlflow.pyfunc.load_model(f"models:/{label}/{number}")
            load_s = time.perf_counter() - start
            loaded.predict(X.head(5).to_numpy("float32") if label == "mlp" else X.head(5))
            local = Path(mlflow.artifacts.download_artifacts(f"models:/{label}/{number}"))
            out[label] = {
                "log_s": log_s,
                "log_pinned_s": pinned_s,
                "load_s": load_s,
                "size": _folder_size(local),
            }
    return out


def run_once(tool: str, models_file: Path) -> dict[str, Any]:
    python = sys.executable if tool == "keel" else str(PEERS_PYTHON)
    with tempfile.TemporaryDirectory(prefix=f"bench-models-{tool}-") as work:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEL_", "MLFLOW_"))}
        cmd = [python, str(Path(__file__).resolve()), "--worker", tool, str(models_file), work]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            sys.exit(f"{tool} worker failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result


def _version(python: str, code: str) -> str:
    return subprocess.run([python, "-c", code], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--no-mlp", action="store_true", help="Leave out the PyTorch MLP.")
    parser.add_argument("--worker", nargs=3, metavar=("TOOL", "MODELS", "WORK"))
    args = parser.parse_args()
    if args.worker:
        tool, models_file, work = args.worker
        with open(models_file, "rb") as handle:
            models = pickle.load(handle)
        worker = keel_worker if tool == "keel" else mlflow_worker
        print(json.dumps(worker(models, Path(work))))
        return
    if not PEERS_PYTHON.exists():
        sys.exit(f"no peers environment at {PEERS_PYTHON}; see this file's docstring")
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    models = {
        "logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y),
        "forest": RandomForestClassifier(n_estimators=args.trees, random_state=0, n_jobs=1).fit(X, y),
        "_X": X,
    }
    if not args.no_mlp:
        import torch

        torch.manual_seed(0)
        models["mlp"] = torch.nn.Sequential(
            torch.nn.Linear(30, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 2),
        )
    sk = "import sklearn; print(sklearn.__version__)"
    ours, theirs = _version(sys.executable, sk), _version(str(PEERS_PYTHON), sk)
    if ours != theirs:
        sys.exit(
            f"scikit-learn differs: Keel's env {ours}, peers' {theirs}; install the same version in both"
        )
    results: dict[str, list[dict[str, Any]]] = {"keel": [], "mlflow": []}
    with tempfile.TemporaryDirectory() as tmp:
        models_file = Path(tmp) / "models.pkl"
        models_file.write_bytes(pickle.dumps(models))
        for _ in range(args.runs):
            for tool in ("keel", "mlflow"):
                results[tool].append(run_once(tool, models_file))
    mlflow_version = _version(str(PEERS_PYTHON), "import mlflow; print(mlflow.__version__)")
    print(f"scikit-learn {ours}, MLflow {mlflow_version}, {os.cpu_count()} cores, median of {args.runs}")
    for label in [m for m in models if m != "_X"]:

        def med(tool: str, key: str, label: str = label) -> float:
            return float(statistics.median(r[label][key] for r in results[tool]))

        k_log, k_load, k_size = med("keel", "log_s"), med("keel", "load_s"), med("keel", "size")
        m_log, m_pin = med("mlflow", "log_s"), med("mlflow", "log_pinned_s")
        m_load, m_size = med("mlflow", "load_s"), med("mlflow", "size")
        print(f"{label}:")
        print(
            f"  log+register  keel {k_log * 1000:8.1f} ms   mlflow {m_log * 1000:8.1f} ms   ratio {m_log / k_log:5.1f}x"
        )
        print(
            f"  ... pinned    keel {k_log * 1000:8.1f} ms   mlflow {m_pin * 1000:8.1f} ms   ratio {m_pin / k_log:5.1f}x"
        )
        print(
            f"  load          keel {k_load * 1000:8.1f} ms   mlflow {m_load * 1000:8.1f} ms   ratio {m_load / k_load:5.1f}x"
        )
        print(
            f"  package size  keel {k_size / 1e6:8.2f} MB   mlflow {m_size / 1e6:8.2f} MB   ratio {m_size / k_size:5.2f}x"
        )


if __name__ == "__main__":
    main()
