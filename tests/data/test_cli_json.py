"""Every ``keel data`` command that produces a result prints it as JSON with ``--json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.artifacts.remotes import add_remote
from keel.client import Client
from keel.data import add


def _keel(home: str, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    done = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", "-c", f"home={home}", "data", *args],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == code, done.stderr
    return done


def _json(home: str, *args: str) -> Any:
    return json.loads(_keel(home, *args, "--json").stdout)


def test_push_pull_checkout_tag_rm_print_json(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    client = make_keel()
    client.projects.create(name="p")
    home = client.settings.home if client.settings else ""
    add_remote(Path(home), "origin", str(tmp_path / "remote"))
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "a.txt").write_text("a")
    add(tmp_path / "f", "f", project="p", client=client)

    tagged = _json(home, "tag", "f@v1", "golden", "-p", "p")
    assert tagged["number"] == 1 and tagged["tags"] == ["golden"]
    out = _json(home, "checkout", "f@golden", str(tmp_path / "out"), "-p", "p")
    assert out["files"] == 1 and out["dest"] == str(tmp_path / "out") and out["version"]["number"] == 1
    pushed = _json(home, "push", "-p", "p")
    assert pushed["remote"] == "origin" and pushed["versions"] == ["p/f@v1"] and pushed["moved"] == 2
    pulled = _json(home, "pull", "f@v1", "-p", "p")  # one argument that reads as an address
    assert pulled["versions"] == ["p/f@v1"] and pulled["moved"] == 0 and pulled["records"] == 0
    removed = _json(home, "rm", "f", "-p", "p")
    assert removed["name"] == "f" and removed["deleted"] is True


def test_status_name_without_a_path_is_bad_usage(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    home = client.settings.home if client.settings else ""
    done = _keel(home, "status", "--name", "x", code=2)
    assert "--name needs a path" in done.stderr
