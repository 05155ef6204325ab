"""SQLite durability is a named setting (issue 11.12): ``db_synchronous = normal | full``.

Before, every SQLite workspace ran ``synchronous=NORMAL`` with no way to choose
and no word about what it risks (a power cut may lose the last commits).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from keel.context import Context
from keel.core.errors import ConfigError
from keel.core.settings import BY_NAME, load_settings
from keel.store.engine import Store
from keel.testing.fixtures import new_workspace

#: What ``PRAGMA synchronous`` reads back: 1 NORMAL, 2 FULL.
PRAGMA = {"normal": 1, "full": 2}


def _synchronous(store: Store) -> int:
    with store.read() as session:
        return int(session.execute(text("PRAGMA synchronous")).scalar_one())


@pytest.mark.parametrize(("value", "expected"), [("normal", 1), ("full", 2), ("FULL", 2), (None, 1)])
def test_store_applies_the_chosen_durability(tmp_path: Path, value: str | None, expected: int) -> None:
    store = Store(new_workspace(tmp_path / "ws").db_url, synchronous=value)
    assert _synchronous(store) == expected
    store.dispose()


def test_the_setting_reaches_the_workspace_store(tmp_path: Path) -> None:
    settings = new_workspace(tmp_path / "ws")
    assert settings.db_synchronous == "normal"
    full = load_settings({"home": settings.home, "db_synchronous": "full"}, env={})
    assert _synchronous(Context(full).store) == PRAGMA["full"]
    from_env = load_settings({"home": settings.home}, env={"KEEL_DB_SYNCHRONOUS": "full"})
    assert Context(from_env).store is Context(full).store  # one engine per database and options
    assert _synchronous(Context(settings).store) == PRAGMA["normal"]


def test_the_help_states_the_trade() -> None:
    help_text = BY_NAME["db_synchronous"].help
    assert "power" in help_text and "full" in help_text and "normal" in help_text


@pytest.mark.parametrize("value", ["off", "extra", "1", "normal;PRAGMA x"])
def test_an_unknown_durability_is_refused_naming_the_choices(tmp_path: Path, value: str) -> None:
    url = new_workspace(tmp_path / "ws").db_url
    with pytest.raises(ConfigError, match=r"db_synchronous must be one of normal, full"):
        Store(url, synchronous=value)


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "pragma"), sorted(PRAGMA.items()))
def test_the_benchmark_durability_worker_runs_in_each_mode(tmp_path: Path, mode: str, pragma: int) -> None:
    """benchmarks/tracking.py (s) on tiny sizes: the mode is in force and every point is stored."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    args = ["--worker", "keel", "--workload", f"s-{mode}", "--dir", str(tmp_path), "--c-runs", "5"]
    done = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "tracking.py"), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["pragma"] == pragma and figures["stored_last_key"] == 500
