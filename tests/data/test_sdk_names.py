"""``keel.data.add`` / ``keel.data.get`` work however ``keel.data`` was first imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SCRIPT = """
import sys
import keel
{first}
keel.init(project="p", create=True, home=sys.argv[1])
v = keel.data.add(sys.argv[2], name="churn-train", message="October export")
frame = keel.data.get("churn-train@latest").to_pandas()
print(v.version.number, len(frame), keel.data.show("churn-train@v1").rows)
"""


def _run(tmp_path: Path, first: str) -> str:
    from keel.testing.fixtures import new_workspace

    settings = new_workspace(tmp_path / "ws")
    data = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), data)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(first=first), str(settings.home), str(data)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    return out.stdout.strip()


def test_keel_data_namespace_via_keel(tmp_path: Path) -> None:
    assert _run(tmp_path, "") == "1 3 3"


def test_keel_data_namespace_after_importing_the_package(tmp_path: Path) -> None:
    assert _run(tmp_path, "import keel.datasets.service") == "1 3 3"
