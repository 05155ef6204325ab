"""Environment capture: git commit, branch, dirty flag and diff; Python, packages, command, host."""

from __future__ import annotations

import subprocess
from pathlib import Path

from keel.tracking.cost import hourly_price
from keel.tracking.environment import capture, git_state


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_git_state_of_a_dirty_repository(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q", "-b", "trunk")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    (tmp_path / "train.py").write_text("print(1)\n")
    _git(tmp_path, "add", "train.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    facts, diff = git_state(tmp_path)
    assert (
        facts["branch"] == "trunk" and len(facts["commit"]) == 40 and facts["dirty"] is False and diff is None
    )
    (tmp_path / "train.py").write_text("print(2)\n")
    facts, diff = git_state(tmp_path)
    assert facts["dirty"] is True and diff is not None and "+print(2)" in diff


def test_outside_a_repository_git_is_absent(tmp_path: Path) -> None:
    assert git_state(tmp_path / "nowhere") == ({}, None)


def test_capture_has_python_packages_and_command() -> None:
    env, files = capture()
    assert env["python"].count(".") == 2 and env["host"] and env["command"]
    assert b"pydantic==" in files["environment/requirements.txt"]
    assert set(env["artifacts"]) == set(files) and all(len(d) == 64 for d in env["artifacts"].values())


def test_hourly_price() -> None:
    assert hourly_price(2.5, "g5.xlarge") == 2.5
    assert hourly_price(None, "g5.xlarge") == 1.006
    assert hourly_price(None, None) is None
