"""The public surface is pinned, and importing Keel or asking for help stays cheap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keel

HEAVY = ("sqlalchemy", "fastapi", "starlette", "pyarrow", "numpy", "pandas", "alembic", "httpx", "uvicorn")


#: The public names; changing this set is a deliberate API change.
PUBLIC = {
    "Client",
    "KPI",
    "KeelError",
    "__version__",
    "active_run",
    "autolog",
    "connect",
    "current_project",
    "data",
    "end_run",
    "evaluate_kpis",
    "get_client",
    "get_run",
    "init",
    "log_artifact",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "models",
    "parse_kpi",
    "pipeline",
    "run_pipeline",
    "search_runs",
    "set_tag",
    "set_tags",
    "start_run",
    "step",
}


def test_public_names_are_pinned_and_resolve() -> None:
    assert len(keel.__all__) == len(set(keel.__all__))
    assert set(keel.__all__) == PUBLIC
    assert sorted(dir(keel)) == sorted(keel.__all__)
    for name in keel.__all__:
        assert getattr(keel, name) is not None, name


def _modules_after(code: str) -> list[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    return [m for m in json.loads(out.strip().splitlines()[-1]) if m.split(".")[0] in HEAVY]


def test_import_keel_loads_nothing_heavy() -> None:
    assert _modules_after("import keel") == []


def test_keel_help_loads_nothing_heavy() -> None:
    code = (
        "from keel.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    main(['project', '--help'])\nexcept SystemExit:\n    pass"
    )
    assert _modules_after(code) == []


def test_no_public_function_is_shadowed_by_a_subpackage() -> None:
    """`import keel.x` rebinds `keel.x` to the module, so a public function may not share a subpackage's name."""
    import pkgutil

    submodules = {m.name for m in pkgutil.iter_modules(keel.__path__)}
    # keel.data and keel.models are the namespaces themselves, by design
    clashes = (set(keel.__all__) & submodules) - {"data", "models"}
    assert not clashes, f"public names shadowed by subpackages: {sorted(clashes)}"


def test_a_local_command_loads_only_its_capability(tmp_path: Path) -> None:
    """`keel project ls` on a workspace pays for projects, not for tracking, data or the HTTP stack."""
    from keel.testing.fixtures import new_workspace

    home = new_workspace(tmp_path).home
    code = (
        "import sys, json\n"
        "from keel.cli.main import main\n"
        "try:\n    main(['-c', 'home="
        + home
        + "', 'project', 'ls', '--json'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert "keel.projects" in loaded
    unwanted = {
        "keel.tracking",
        "keel.data",
        "keel.datasets",
        "keel.artifact_service",
        "httpx",
        "pandas",
        "pyarrow",
        "fastapi",
    }
    assert not (unwanted & loaded), sorted(unwanted & loaded)
