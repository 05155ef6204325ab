"""The quickstart's validation stages on a small generated table: what they print is what they did."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import keel.data
from keel.client import Client
from keel.quickstart import KPIS, Quickstart
from keel.quickstart.validation import MODEL, data_stage, model_stage
from keel.samples import customers_table


@pytest.mark.slow  # trains and validates four small models, as the quickstart does
def test_the_validation_stages(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    client = make_keel()
    client.projects.create(name="churn", kpis=KPIS)
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "customers.parquet"
    # The quickstart's size: at 800 rows the fair candidate misses the accuracy KPI too.
    pq.write_table(customers_table(5000), path)
    first = keel.data.add(path, "churn-train", project="churn", gitignore=False, client=client).version
    lines: list[str] = []
    qs = Quickstart(
        client=client, directory=tmp_path, say=lines.append, table_path=path, dataset_versions=[first]
    )

    data_stage(qs)
    text = "\n".join(lines)
    assert (tmp_path / "suites" / "churn.yaml").is_file()
    assert "customers-batch-1.parquet passed the suite and was versioned as churn-new@v1" in text
    assert "customers-batch-2.parquet was refused, no version made" in text
    assert "age range" in text and "plan domain" in text and "monthly_charges distribution" in text
    assert client.data.version(project="churn", name="churn-new").number == 1  # the refused batch made none

    lines.clear()
    model_stage(qs)
    text = "\n".join(lines)
    assert f"Promoted {MODEL}@1 to 'candidate'" in text
    assert f"{MODEL}@2 (fitted on biased labels, with gender)" in text
    assert "failed: KPI demographic_parity_difference <= 0.1 group=gender" in text
    assert "Promotion to 'candidate' refused by the gate" in text
    versions = client.models.versions(project="churn", name=MODEL)
    assert {v.number: v.aliases for v in versions} == {2: [], 1: ["candidate"]}
    assert not client.validation.policy(project="churn").require_validation
