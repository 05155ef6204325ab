"""Shared fixtures: Keel's own (keel.testing.fixtures), a clean slate for every test, and the `keel` command."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from keel.cli.main import main

pytest_plugins = ["keel.testing.fixtures"]

#: The one ``KEEL_*`` variable a test may inherit: where CI's PostgreSQL is.
KEPT_KEEL_VARIABLES = frozenset({"KEEL_TEST_POSTGRES"})
#: Where the environment points programs at per-user files; a test gets its own (HOME) or none.
USER_DIR_VARIABLES = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")
#: ``keel.sdk``'s process state and what a fresh interpreter holds: what ``keel.init`` and runs leave behind.
SDK_STATE: dict[str, object] = {"_default": None, "_project": None, "_env_cache": None}


def reset_sdk_state() -> None:
    """Forget the client ``keel.init`` chose, its project and the active run (if ``keel.sdk`` was imported)."""
    sdk = sys.modules.get("keel.sdk")
    if sdk is None:
        return
    for name, fresh in SDK_STATE.items():
        setattr(sdk, name, fresh)
    sdk._active.set(None)


@pytest.fixture(autouse=True)
def clean_keel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test starts as on a fresh machine and leaves nothing behind, as httpx's ``clean_environ`` does.

    No ``KEEL_*`` variable but :data:`KEPT_KEEL_VARIABLES`, a fresh empty HOME
    (so ``~/.config/keel/credentials.toml`` and ``~/.cache/keel`` are the test's
    own), a fresh empty working folder (so no ``.keel/`` is found by walking up,
    and none is made in the checkout), and no SDK client or active run. The
    environment and the working folder are put back afterwards, whatever the
    test changed.
    """
    original_environ = os.environ.copy()
    original_cwd = os.getcwd()
    root = tmp_path_factory.mktemp("clean")
    (root / "home").mkdir()
    (root / "work").mkdir()
    for name in list(os.environ):
        if (name.startswith("KEEL_") and name not in KEPT_KEEL_VARIABLES) or name in USER_DIR_VARIABLES:
            del os.environ[name]
    os.environ["HOME"] = str(root / "home")
    os.chdir(root / "work")
    reset_sdk_state()
    try:
        yield
    finally:
        reset_sdk_state()
        os.chdir(original_cwd)
        os.environ.clear()
        os.environ.update(original_environ)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def keel_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``keel_cli("project", "ls", "--json")`` -> Result(code, out, err); the environment is clean_keel's."""
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
