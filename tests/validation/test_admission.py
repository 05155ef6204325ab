"""``keel data add --require-valid``: a table failing the suite never becomes a version; a passing one has its report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import keel.data
from keel.client import Client
from keel.core.errors import CheckFailed, InvalidInput

from .conftest import PROJECT, churn_table


def _write(tmp_path: Path, name: str, table: pa.Table) -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_a_failing_table_is_refused_and_nothing_is_recorded(
    client: Client, tmp_path: Path, add_table: Callable[[str, pa.Table], str]
) -> None:
    add_table("churn-train", churn_table(1500, 1))
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train", name="churn")
    suite_file = tmp_path / "churn.yaml"
    suite.save(suite_file)

    def add(path: Path, **kw: Any) -> Any:
        return keel.data.add(
            path, "churn-new", project=PROJECT, pointer=False, gitignore=False, client=client, **kw
        )

    good = add(_write(tmp_path, "good.parquet", churn_table(500, 2)), require_valid=suite_file)
    assert good.created and good.version.number == 1
    (report,) = client.validation.reports(project=PROJECT, dataset="churn-new", version="v1").items
    assert report.passed and report.suite == "churn"

    bad = _write(tmp_path, "bad.parquet", churn_table(500, 3, shift=1.5, plans=("basic", "gold")))
    with pytest.raises(CheckFailed, match="fails suite 'churn'") as caught:
        add(bad, require_valid=suite)
    assert "plan domain" in caught.value.message and "tenure distribution" in caught.value.message
    assert any(f.startswith("plan domain") for f in caught.value.details["failing"])
    assert client.data.version(project=PROJECT, name="churn-new").number == 1
    assert len(client.validation.reports(project=PROJECT).items) == 1  # nothing stored for the refused table
    assert add(bad).version.number == 2  # without the flag it is versioned as before


def test_require_valid_needs_a_table_and_a_readable_suite(
    client: Client, tmp_path: Path, add_table: Callable[[str, pa.Table], str]
) -> None:
    add_table("churn-train", churn_table(300, 1))
    suite = client.validation.infer_suite(project=PROJECT, dataset="churn-train")
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    with pytest.raises(InvalidInput, match="folder of files"):
        keel.data.add(
            folder,
            "docs",
            project=PROJECT,
            pointer=False,
            gitignore=False,
            client=client,
            require_valid=suite,
        )
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(InvalidInput, match=r"broken\.yaml"):
        keel.data.add(
            _write(tmp_path, "t.parquet", churn_table(50, 2)),
            "churn-new",
            project=PROJECT,
            pointer=False,
            gitignore=False,
            client=client,
            require_valid=broken,
        )
    assert client.data.ls(project=PROJECT).items[0].name == "churn-train"
    assert len(client.data.ls(project=PROJECT).items) == 1


def test_the_cli_flag_exits_1_naming_the_failing_checks(
    client: Client, tmp_path: Path, add_table: Callable[[str, pa.Table], str], keel_cli: Callable[..., Any]
) -> None:
    add_table("churn-train", churn_table(800, 1))
    suite_file = tmp_path / "churn.yaml"
    client.validation.infer_suite(project=PROJECT, dataset="churn-train", name="churn").save(suite_file)
    home = client.settings.home if client.settings else ""
    bad = _write(tmp_path, "bad.parquet", churn_table(300, 3, plans=("basic", "gold")))
    refused = keel_cli(
        "-c",
        f"home={home}",
        "data",
        "add",
        str(bad),
        "--name",
        "churn-new",
        "--no-pointer",
        "--require-valid",
        str(suite_file),
        "-p",
        PROJECT,
    )
    assert refused.code == 1 and "fails suite 'churn'" in refused.err and "plan domain" in refused.err
    good = _write(tmp_path, "good.parquet", churn_table(300, 2))
    added = keel_cli(
        "-c",
        f"home={home}",
        "data",
        "add",
        str(good),
        "--name",
        "churn-new",
        "--no-pointer",
        "--require-valid",
        str(suite_file),
        "-p",
        PROJECT,
    )
    assert added.code == 0, added.err
    assert "churn-new@v1" in added.out
