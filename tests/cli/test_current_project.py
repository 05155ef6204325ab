"""A current project without ceremony, and `keel init`'s .gitignore (issue 10.3, 10.4's init part)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _config(ws: Path) -> str:
    return (ws / ".keel" / "config.toml").read_text(encoding="utf-8")


def test_a_fresh_workspace_has_a_current_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    made = keel_cli("init")
    assert made.code == 0 and "current project: default" in made.out
    assert keel_cli("config", "get", "project").out.strip() == "default"
    assert "default" in keel_cli("project", "show", "default", "--json").out


def test_create_makes_the_first_project_current_and_use_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    first = keel_cli("project", "create", "churn")
    assert first.code == 0 and "churn is now the current project" in first.out
    assert keel_cli("config", "get", "project").out.strip() == "churn"
    second = keel_cli("project", "create", "other")  # one is chosen now: creating does not switch
    assert second.code == 0 and "current project" not in second.out
    assert keel_cli("config", "get", "project").out.strip() == "churn"
    listing = keel_cli("project", "ls").out
    assert any(line.split("│")[1:3] == [" * ", " churn   "] for line in listing.splitlines() if "│" in line)
    switched = keel_cli("project", "use", "other")
    assert switched.code == 0 and "current project: other" in switched.out
    assert keel_cli("config", "get", "project").out.strip() == "other"


def test_use_of_a_missing_project_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    before = _config(tmp_path)
    missing = keel_cli("project", "use", "nosuch")
    assert missing.code == 2 and "no project named 'nosuch'" in missing.err
    assert "keel project use NAME" in missing.err  # the hint says how to choose
    assert _config(tmp_path) == before


def test_an_empty_project_name_never_reads_named_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    result = keel_cli("-c", "project=", "project", "show", "")
    assert result.code == 2 and "no project chosen" in result.err
    assert "named ''" not in result.err


def test_use_without_a_workspace_says_how_to_choose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    """A database URL and no .keel/: no file to remember the choice in; nothing is written."""
    monkeypatch.chdir(tmp_path)
    db = f"db_url=sqlite:///{tmp_path / 'direct.db'}"
    upgraded = keel_cli("-c", db, "db", "upgrade")
    assert upgraded.code == 0 and "created project default" in upgraded.out  # usable at once
    assert "created project" not in keel_cli("-c", db, "db", "upgrade").out  # made once
    created = keel_cli("-c", db, "project", "create", "p")
    assert created.code == 0 and "current project" not in created.out
    used = keel_cli("-c", db, "project", "use", "p")
    assert used.code == 2 and "export KEEL_PROJECT=p" in used.err
    assert not (tmp_path / ".keel").exists()


def test_init_writes_a_gitignore_that_keeps_only_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    keel_cli("project", "create", "churn")
    (tmp_path / ".keel" / "spool").mkdir()  # a folder Keel adds later is ignored too
    (tmp_path / ".keel" / "spool" / "x").write_text("x")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True, env=env)
    staged = subprocess.run(
        ["git", "ls-files"], cwd=tmp_path, check=True, env=env, capture_output=True, text=True
    ).stdout.split()
    assert staged == [".keel/.gitignore", ".keel/config.toml"]


def test_init_keeps_a_gitignore_the_user_edited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    ignore = tmp_path / ".keel" / ".gitignore"
    ignore.write_text("/keel.db\n")
    assert keel_cli("init").code == 0
    assert ignore.read_text() == "/keel.db\n"


def test_sdk_init_creates_a_workspace_where_there_is_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    script = (
        "import keel; c = keel.init(); print(keel.current_project(), [p.name for p in c.projects.ls().items])"
    )
    first = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "default ['default']"
    assert f"created {tmp_path.resolve() / '.keel'}" in first.stderr
    again = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 0 and "created" not in again.stderr  # found, not made again


def test_sdk_init_of_a_missing_project_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    done = subprocess.run(
        [sys.executable, "-c", "import keel; keel.init(project='nosuch')"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "no project named 'nosuch'" in done.stderr


@pytest.mark.parametrize("command", [("run", "ls"), ("artifacts", "ls")])
def test_no_chosen_project_says_how_to_choose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any], command: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    keel_cli("init")
    result = keel_cli("-c", "project=", *command)
    assert result.code == 2 and "no project chosen" in result.err and "keel project use NAME" in result.err
    assert "no project named" not in result.err
