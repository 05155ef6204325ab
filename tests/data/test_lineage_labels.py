"""``keel data lineage`` names what it shows: version addresses and run names beside the ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from keel.client import Client
from keel.core.errors import InvalidInput, NotFound
from keel.data import add, lineage


def test_lineage_labels_versions_and_runs(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    client = make_keel()
    client.projects.create(name="p")
    (tmp_path / "raw.txt").write_text("raw")
    raw = add(tmp_path / "raw.txt", "raw", project="p", client=client).version
    (tmp_path / "clean.txt").write_text("clean")
    clean = add(tmp_path / "clean.txt", "clean", parents=["raw@v1"], project="p", client=client).version
    run = client.runs.create(project="p", name="train-forest")
    client.runs.use(run_id=run.id, refs=["clean@v1"])
    view = lineage("raw@v1", project="p", client=client)
    assert view.labels[raw.ref] == "p/raw@v1"
    assert view.labels[clean.ref] == "p/clean@v1"
    assert view.labels[f"run:{run.id}"] == "run train-forest"
    with pytest.raises(InvalidInput, match="depth"):
        lineage("raw@v1", depth=0, project="p", client=client)
    with pytest.raises(NotFound):
        lineage("nothing@v1", project="p", client=client)


def test_the_cli_prints_addresses_beside_ids(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    client = make_keel()
    client.projects.create(name="p")
    (tmp_path / "raw.txt").write_text("raw")
    raw = add(tmp_path / "raw.txt", "raw", project="p", client=client).version
    run = client.runs.create(project="p", name="train-forest")
    client.runs.use(run_id=run.id, refs=["raw@v1"])
    home = client.settings.home if client.settings else ""
    out = subprocess.run(
        [sys.executable, "-m", "keel.cli.main", "-c", f"home={home}", "data", "lineage", "raw@v1", "-p", "p"],
        capture_output=True,
        text=True,
        check=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}, "COLUMNS": "200"},
    ).stdout
    assert f"p/raw@v1 ({raw.ref})" in out
    assert f"run train-forest (run:{run.id}) --used--> p/raw@v1 ({raw.ref})" in out
