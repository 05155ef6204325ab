"""The same commands against a real `keel server`, with no workspace on the client side."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.testing.fixtures import ServerProcess


def test_remote_commands_need_no_workspace(
    keel_server: ServerProcess,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    keel_cli: Callable[..., Any],
    unique: Callable[[str], str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)
    if getattr(keel_server, "token", None):
        monkeypatch.setenv("KEEL_TOKEN", keel_server.token)
    name = unique("remote")
    created = keel_cli("project", "create", name, "--kpi", "roc_auc >= 0.9")
    assert created.code == 0, created.err
    names = [p["name"] for p in json.loads(keel_cli("project", "ls", "--json").out)]
    assert name in names
    bad = keel_cli("project", "create", unique("x"), "--kpi", "roc_auc >> 0.9")
    assert bad.code == 2 and "unknown comparator" in bad.err
    assert not (tmp_path / ".keel").exists()
