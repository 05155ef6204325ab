"""DVC's git workflow, end to end: commit pointer files, a teammate's clone pulls the data and its versions.

Two workspaces, real git, an S3 endpoint on loopback (moto), and the ``keel``
command as a user runs it (a process per command).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from keel.testing.contract.artifacts import s3_endpoint, s3_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _run(argv: list[str], cwd: Path, *, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@x", "HOME": str(cwd.parent)}
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if ok:
        assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}: {done.stderr}{done.stdout}"
    return done


def keel(cwd: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "keel.cli.main", *args], cwd, ok=ok)


def keel_json(cwd: Path, *args: str) -> Any:
    return json.loads(keel(cwd, *args, "--json").stdout)


def git(cwd: Path, *args: str) -> str:
    return _run(["git", *args], cwd).stdout


def _table(path: Path, values: list[int]) -> None:
    pq.write_table(pa.table({"id": list(range(len(values))), "v": values}), path)


@pytest.mark.slow
def test_a_clone_pulls_the_versions_its_origin_pushed(
    s3_url: str,  # noqa: F811
    s3_endpoint: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    origin = tmp_path / "origin"
    (origin / "data" / "images" / "cats").mkdir(parents=True)
    git(origin, "init", "-q")
    keel(origin, "init")
    keel(origin, "project", "create", "churn")
    keel(origin, "remote", "add", "origin", s3_url, "--endpoint-url", s3_endpoint)
    table = origin / "data" / "customers.parquet"
    for values in ([1, 2], [1, 2, 3], [4, 5, 6]):
        _table(table, values)
        keel(
            origin,
            "data",
            "add",
            "data/customers.parquet",
            "--name",
            "churn-train",
            "-p",
            "churn",
            "-m",
            "export",
        )
    (origin / "data" / "images" / "cats" / "a.png").write_bytes(b"\x89PNG cat")
    (origin / "data" / "images" / "b.png").write_bytes(b"\x89PNG other")
    keel(origin, "data", "add", "data/images", "--name", "imgs", "-p", "churn")
    keel(origin, "data", "tag", "churn-train@v3", "golden", "-p", "churn")

    ignored = (origin / "data" / ".gitignore").read_text().splitlines()
    assert "/customers.parquet" in ignored and "/images" in ignored
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", "data")
    tracked = set(git(origin, "ls-files").split())
    assert {"data/customers.parquet.keel", "data/images.keel", ".keel/config.toml"} <= tracked
    assert not {"data/customers.parquet", "data/images/b.png", ".keel/keel.db"} & tracked

    pushed = keel_json(origin, "data", "push", "-p", "churn")
    assert pushed["remote"] == "origin" and pushed["records"] == 4 and pushed["moved"] > 0

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    assert not (clone / "data" / "customers.parquet").exists()
    status = {t["path"].split("/data/")[-1]: t["state"] for t in keel_json(clone, "data", "status")}
    assert status == {"customers.parquet": "missing", "images": "missing"}
    pulled = keel_json(clone, "data", "pull")
    assert sorted(pulled["versions"]) == ["churn/churn-train@v3", "churn/imgs@v1"]
    keel(clone, "data", "checkout", "data/customers.parquet.keel")
    keel(clone, "data", "checkout", "data/images.keel")
    assert (clone / "data" / "customers.parquet").read_bytes() == table.read_bytes()
    assert (clone / "data" / "images" / "cats" / "a.png").read_bytes() == b"\x89PNG cat"

    v3 = keel_json(clone, "data", "show", "churn-train@v3", "-p", "churn")
    origin_v3 = keel_json(origin, "data", "show", "churn-train@v3", "-p", "churn")
    for field in ("id", "number", "digest", "message", "tags", "columns", "profile", "rows", "created_at"):
        assert v3[field] == origin_v3[field], field
    assert v3["tags"] == ["golden"] and v3["message"] == "export"
    assert {t["state"] for t in keel_json(clone, "data", "status")} == {"clean"}

    # Both sides make a v4; the second push is refused and names the clash; digests still work.
    _table(table, [7])
    keel(origin, "data", "add", "data/customers.parquet", "--name", "churn-train", "-p", "churn")
    keel(origin, "data", "push", "origin", "churn-train@v4", "-p", "churn")
    _table(clone / "data" / "customers.parquet", [8])
    mine = keel_json(clone, "data", "add", "data/customers.parquet", "--name", "churn-train", "-p", "churn")
    assert mine["version"]["number"] == 4
    refused = keel(clone, "data", "push", "-p", "churn", ok=False)
    assert refused.returncode != 0 and "churn/churn-train@v4 with other content" in refused.stderr
    by_digest = keel_json(clone, "data", "show", f"churn-train@{mine['version']['digest']}", "-p", "churn")
    assert by_digest["number"] == 4
    assert keel_json(origin, "data", "pull", "origin", "churn-train@v4", "-p", "churn")["records"] == 0


def test_data_add_outside_git_writes_no_gitignore(tmp_path: Path) -> None:
    from keel.client import connect
    from keel.data import add
    from keel.testing.fixtures import new_workspace

    client = connect(settings=new_workspace(tmp_path / "ws"))
    client.projects.create(name="p")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    add(tmp_path / "d" / "x.txt", "x", project="p", client=client)
    assert (tmp_path / "d" / "x.txt.keel").is_file()
    assert not (tmp_path / "d" / ".gitignore").exists()
