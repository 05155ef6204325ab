"""The CI example's workflow: its own commands, run word for word in a fresh folder (install and comment need pip and GitHub)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci"
SKIPPED = {"install", "comment"}


def _steps() -> list[dict[str, str]]:
    workflow = yaml.safe_load((EXAMPLE / "keel-gates.yml").read_text())
    return [s for s in workflow["jobs"]["gates"]["steps"] if "run" in s]


def test_the_workflow_names_its_steps_and_posts_the_comparison() -> None:
    steps = {s["id"]: s for s in _steps()}
    assert list(steps) == ["install", "workspace", "data", "pipeline", "compare", "comment"]
    assert "keel run compare" in steps["compare"]["run"] and "--markdown" in steps["compare"]["run"]
    assert "gh pr comment" in steps["comment"]["run"] and steps["compare"]["if"] == "always()"


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("jq") is None, reason="the workflow's compare step uses jq (GitHub's runners have it)"
)
def test_the_workflows_commands_pass_locally(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "ci")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for step in _steps():
        if step["id"] in SKIPPED:
            continue
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"step {step['id']}: {done.stdout}\n{done.stderr}"
    comment = (tmp_path / "comment.md").read_text()
    assert "status: FINISHED" in comment and "train-c0.1" in comment and "|" in comment
    assert (tmp_path / "examples" / "ci" / "keel.lock").exists()
    shown = subprocess.run(
        ["keel", "model", "show", "churn@candidate", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0 and '"number": 1' in shown.stdout
