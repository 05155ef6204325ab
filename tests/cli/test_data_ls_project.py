"""``keel data ls`` and the current project (issue 10.11): it lists the current project's datasets,
and a current project that does not exist (a server without the workspace's default) says how to choose."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def test_data_ls_lists_the_current_project_or_says_how_to_choose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    listed = keel_cli("data", "ls", "--json")  # a fresh workspace has a current project: its (no) datasets
    assert listed.code == 0 and json.loads(listed.out) == []
    missing = keel_cli("-c", "project=nosuch", "data", "ls")
    assert missing.code == 2
    assert "no project named 'nosuch'" in missing.err
    assert "`keel project ls` lists the projects you can see" in missing.err
    assert "keel project use NAME" in missing.err
