"""Every test starts clean (tests/conftest.py's clean_keel): these two leave a mess, the next ones check it is gone.

They run in file order; each pair holds one promise of the autouse fixture.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keel
import keel.sdk
from conftest import KEPT_KEEL_VARIABLES as KEPT
from conftest import SDK_STATE
from keel.core.settings import SETTINGS


def test_a_test_that_leaks_environment_sdk_state_and_folder(keel_workspace: Any) -> None:
    keel.init(home=keel_workspace.home)
    assert keel.sdk._default is not None
    for s in SETTINGS:
        os.environ[s.env] = "leaked"
    os.environ["XDG_CONFIG_HOME"] = "/leaked"
    os.chdir(keel_workspace.home)


def test_the_next_test_sees_none_of_it() -> None:
    leaked = sorted(k for k in os.environ if k.startswith("KEEL_") and k not in KEPT)
    assert leaked == []
    assert "XDG_CONFIG_HOME" not in os.environ
    assert all(getattr(keel.sdk, name) is None for name in SDK_STATE)
    assert keel.sdk._active.get() is None
    assert not any(Path.cwd().iterdir()) and not (Path.cwd() / ".keel").exists()


def test_home_is_a_fresh_folder_of_the_tests_own() -> None:
    home = Path.home()
    assert home == Path(os.environ["HOME"]) and "clean" in home.parent.name
    assert not any(home.iterdir())


def test_the_sdk_state_the_fixture_resets_still_exists() -> None:
    # If keel.sdk renames its globals, this fails (rather than every test silently sharing state).
    for name in SDK_STATE:
        assert hasattr(keel.sdk, name), f"keel.sdk has no {name}: update SDK_STATE in tests/conftest.py"
    assert hasattr(keel.sdk, "_active")
