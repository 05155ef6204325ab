"""Global options after the subcommand, and hints that name a pip extra printed intact (issue 10.1)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.cli.main import hoist_global_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["quickstart", "--debug"], ["--debug", "quickstart"]),
        (["run", "ls", "-c", "project=x", "--json"], ["-c", "project=x", "run", "ls", "--json"]),
        (["run", "ls", "--config=project=x"], ["--config=project=x", "run", "ls"]),
        (["run", "ls", "-cproject=x"], ["-cproject=x", "run", "ls"]),
        (["--debug", "project", "ls"], ["--debug", "project", "ls"]),
        (["data", "add", "--", "--debug"], ["data", "add", "--", "--debug"]),  # after -- nothing moves
        (["project", "ls", "-c"], ["project", "ls", "-c"]),  # no value: stays, and click refuses it
    ],
)
def test_global_options_move_to_the_front(given: list[str], expected: list[str]) -> None:
    assert hoist_global_options(given) == expected


def test_options_after_the_subcommand_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    got = keel_cli("config", "get", "project", "-c", "project=elsewhere")
    assert got.code == 0 and got.out.strip() == "elsewhere"
    assert keel_cli("project", "ls", "--debug").code == 0


def test_a_malformed_config_option_after_the_subcommand_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    bad = keel_cli("config", "get", "project", "-c", "novalue")
    assert bad.code == 2 and "expected name=value" in bad.err
    missing = keel_cli("project", "ls", "-c")
    assert missing.code == 2 and "-c" in missing.err


def test_a_hint_naming_an_extra_prints_it_intact(
    monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    from keel.cli import project_cmd
    from keel.core.errors import MissingExtra

    def missing() -> Any:
        raise MissingExtra("s3:// needs s3fs", hint="pip install 'keel[s3]'")

    monkeypatch.setattr(project_cmd, "client", missing)
    result = keel_cli("project", "ls")
    assert result.code == 2 and "pip install 'keel[s3]'" in result.err


def test_the_quickstart_prints_extras_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    """Its lines are plain text: Rich markup would turn `keel[sklearn,images]` into `keel`."""
    import keel.quickstart

    def no_pillow(folder: Path) -> int:
        raise ImportError("No module named 'PIL'", name="PIL")

    monkeypatch.setattr(keel.quickstart, "_write_digits", no_pillow)
    monkeypatch.chdir(tmp_path)
    result = keel_cli("quickstart", "demo", "--rows", "200")
    assert result.code == 0, result.err
    assert "PIL is not installed (pip install 'keel[sklearn,images]')" in result.out


def test_the_quickstart_needs_only_the_base_install() -> None:
    """README command 1 installs no extra: what the quickstart imports must be a base dependency.

    (`.ci/run` also runs the command itself in a bare virtual environment.)
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = {dep.split(">")[0].split("[")[0].split("=")[0].strip().lower() for dep in project["dependencies"]}
    assert {"scikit-learn", "skops", "pillow", "pyarrow", "numpy", "pandas"} <= base
