"""Shared fixtures: Keel's own (keel.testing.fixtures) and the in-process `keel` command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from keel.cli.main import main

pytest_plugins = ["keel.testing.fixtures"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def keel_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``keel_cli("project", "ls", "--json")`` -> Result(code, out, err)."""
    for var in ("KEEL_HOME", "KEEL_DB_URL", "KEEL_SERVER_URL", "KEEL_TOKEN", "KEEL_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
