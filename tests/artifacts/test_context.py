"""Context.artifacts: the workspace's objects/ folder, with the stat cache in the workspace's cache/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.context import Context
from keel.core.errors import WorkspaceNotFound
from keel.core.settings import load_settings


def test_workspace_store_and_local_stat_cache(keel_workspace: Any, tmp_path: Path) -> None:
    ctx = Context(keel_workspace)
    store = ctx.artifacts
    assert store is ctx.artifacts  # opened once
    home = Path(keel_workspace.home)
    assert store.url == str(home / "objects")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").write_bytes(b"a")
    store.put_tree(src)
    assert (home / "cache" / "stat-cache.sqlite").is_file()


def test_no_workspace_and_no_url(tmp_path: Path) -> None:
    settings = load_settings({"db_url": f"sqlite:///{tmp_path / 'k.db'}"}, env={}, cwd=tmp_path)
    with pytest.raises(WorkspaceNotFound, match="no artifact store"):
        Context(settings).artifacts  # noqa: B018
