"""Table datasets: add, dedupe, profile, Parquet copy, pointers, diff by key, tags, bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from keel.client import Client
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.data import add, checkout, diff, get, lineage, log, ls, rm, show, tag
from keel.samples import customers_table

PROJECT = "vision"


def _customers(path: Path, rows: int = 500) -> pa.Table:
    table = customers_table(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return table


def test_add_table_profiles_and_dedupes(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "data" / "customers.parquet"
    table = _customers(path)
    first = add(path, "churn-train", message="October export", project=PROJECT, client=data_client)
    assert first.created and first.version.number == 1
    v = first.version
    assert v.kind == "table" and v.rows == table.num_rows and v.message == "October export"
    assert [c.name for c in v.columns] == table.column_names
    assert v.profile is not None and v.profile.column("age").count == table.num_rows
    assert first.pointer == tmp_path / "data" / "customers.parquet.keel"
    again = add(path, "churn-train", project=PROJECT, client=data_client)
    assert not again.created and again.version.number == 1
    assert [x.number for x in log("churn-train", project=PROJECT, client=data_client).items] == [1]
    frame = get("churn-train@latest", project=PROJECT, client=data_client).to_pandas()
    assert len(frame) == table.num_rows
    one = get(f"{PROJECT}/churn-train@v1", client=data_client).to_arrow(columns=["age"])
    assert one.column_names == ["age"]
    assert [d.name for d in ls(project=PROJECT, client=data_client).items] == ["churn-train"]


def test_csv_and_jsonl_are_converted_to_parquet_once(data_client: Client, tmp_path: Path) -> None:
    table = customers_table(300).select(["customer_id", "age", "plan", "churned"])
    csv_path = tmp_path / "c.csv"
    pcsv.write_csv(table, csv_path)
    v = add(csv_path, "from-csv", project=PROJECT, client=data_client, pointer=False).version
    assert v.format == "csv" and v.rows == 300 and len(v.table_parts) == 1
    assert v.table_parts[0] != v.digest  # the Parquet copy is its own object
    assert get("from-csv@v1", project=PROJECT, client=data_client).to_arrow().num_rows == 300
    jsonl = tmp_path / "j.jsonl"
    jsonl.write_text("".join(f'{{"a": {i}, "b": "x{i % 3}"}}\n' for i in range(50)))
    j = add(jsonl, "from-json", project=PROJECT, client=data_client, pointer=False).version
    assert (
        j.rows == 50
        and j.profile is not None
        and j.profile.column("b").categories == {"x0": 17, "x1": 17, "x2": 16}
    )


def test_folder_of_parquet_parts_is_one_table(data_client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    table = customers_table(200)
    pq.write_table(table.slice(0, 120), folder / "part-0.parquet")
    pq.write_table(table.slice(120), folder / "part-1.parquet")
    v = add(folder, "parts", project=PROJECT, client=data_client).version
    assert v.kind == "table" and v.layout == "tree" and v.rows == 200 and len(v.table_parts) == 2


def test_keyed_diff_finds_added_removed_and_changed_rows(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    table = _customers(path, 400)
    add(path, "churn", project=PROJECT, client=data_client)
    frame = table.to_pandas().iloc[10:].copy()
    frame.loc[frame.index[0], "age"] = 120
    frame = frame.assign(extra=1)
    newer = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(pa.concat_tables([newer, newer.slice(0, 0)]), path)
    pq.write_table(
        pa.concat_tables(
            [
                newer,
                pa.Table.from_pylist(
                    [{**newer.slice(0, 1).to_pylist()[0], "customer_id": "NEW1"}], schema=newer.schema
                ),
            ]
        ),
        path,
    )
    add(path, "churn", project=PROJECT, client=data_client)
    result = diff("churn@v1", "churn@v2", key=["customer_id"], project=PROJECT, client=data_client)
    assert result.rows is not None
    assert (result.rows.added, result.rows.removed) == (1, 10)
    assert result.rows.changed == 390  # the new column changes every kept row
    assert {(c.column, c.change) for c in result.schema_changes} == {("extra", "added")}
    assert result.rows_before == 400 and result.rows_after == 391
    assert result.files_modified == 1
    with pytest.raises(InvalidInput, match="no column 'nope'"):
        diff("churn@v1", "churn@v2", key=["nope"], project=PROJECT, client=data_client)


def test_keyed_diff_reports_changed_columns(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": [1, 2, 3], "v": [1.0, 2.0, 3.0]}), path)
    add(path, "t", project=PROJECT, client=data_client)
    pq.write_table(pa.table({"id": [1, 2, 4], "v": [1.0, 5.0, 4.0]}), path)
    add(path, "t", project=PROJECT, client=data_client)
    rows = diff("t@v1", "t@latest", key=["id"], project=PROJECT, client=data_client).rows
    assert rows is not None
    assert (rows.added, rows.removed, rows.changed, rows.unchanged) == (1, 1, 1, 1)
    assert rows.changed_examples[0].key == {"id": 2}
    assert rows.changed_examples[0].columns == {"v": (2.0, 5.0)}
    assert rows.added_examples == [{"id": 4, "v": 4.0}]
    pq.write_table(pa.table({"id": [1, 1], "v": [1.0, 2.0]}), path)
    add(path, "t", project=PROJECT, client=data_client)
    with pytest.raises(InvalidInput, match="not unique"):
        diff("t@v1", "t@v3", key=["id"], project=PROJECT, client=data_client)


def test_tags_and_selectors(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    for i in range(2):
        pq.write_table(pa.table({"x": [i]}), path)
        add(path, "t", project=PROJECT, client=data_client)
    v1 = tag("t@v1", "golden", project=PROJECT, client=data_client)
    assert v1.tags == ["golden"]
    assert show("t@golden", project=PROJECT, client=data_client).number == 1
    assert show(f"t@{v1.digest}", project=PROJECT, client=data_client).number == 1
    with pytest.raises(Conflict, match="points to v1"):
        tag("t@v2", "golden", project=PROJECT, client=data_client)
    assert show("t@golden", project=PROJECT, client=data_client).number == 1
    assert tag("t@v2", "golden", force=True, project=PROJECT, client=data_client).number == 2
    with pytest.raises(InvalidInput, match="version selector"):
        tag("t@v2", "v7", project=PROJECT, client=data_client)


@pytest.mark.parametrize(
    ("address", "error", "match"),
    [
        ("missing@v1", NotFound, "no dataset 'missing'"),
        ("t@v9", NotFound, "no version 'v9'"),
        ("t@nosuchtag", NotFound, "no version or tag 'nosuchtag'"),
        ("bad name!", InvalidInput, "not a dataset address"),
    ],
)
def test_unknown_dataset_version_or_tag(
    data_client: Client, tmp_path: Path, address: str, error: type[Exception], match: str
) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    add(path, "t", project=PROJECT, client=data_client)
    with pytest.raises(error, match=match):
        show(address, project=PROJECT, client=data_client)


def test_broken_csv_names_the_line_and_changes_nothing(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6,7\n8,9\n")
    with pytest.raises(InvalidInput, match="line 4 has 3 fields"):
        add(path, "bad", project=PROJECT, client=data_client)
    assert ls(project=PROJECT, client=data_client).items == []
    assert not (tmp_path / "bad.csv.keel").exists()


def test_missing_path_and_symlink_loop(data_client: Client, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        add(tmp_path / "nope.csv", "x", project=PROJECT, client=data_client)
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    with pytest.raises(InvalidInput, match="cannot be resolved"):
        add(loop, "x", project=PROJECT, client=data_client)
    assert ls(project=PROJECT, client=data_client).items == []


def test_pointer_checkout_restores_and_refuses_edits(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "d" / "customers.parquet"
    _customers(path, 50)
    original = path.read_bytes()
    added = add(path, "c", project=PROJECT, client=data_client)
    assert added.pointer is not None
    path.write_bytes(b"scribbled")
    with pytest.raises(Conflict, match="exists already"):
        checkout(str(added.pointer), client=data_client)
    assert path.read_bytes() == b"scribbled"
    checkout(str(added.pointer), force=True, client=data_client)
    assert path.read_bytes() == original
    added.pointer.write_text('project = "vision"\ndataset = "c"\nversion = "three"\n')
    with pytest.raises(InvalidInput, match=r"pointer file .* is not valid: digest .*version must be"):
        checkout(str(added.pointer), force=True, client=data_client)


def test_lineage_records_parents_and_rm_is_soft(data_client: Client, tmp_path: Path) -> None:
    raw = tmp_path / "raw.parquet"
    pq.write_table(pa.table({"x": [1, 2, 3]}), raw)
    add(raw, "raw", project=PROJECT, client=data_client)
    clean = tmp_path / "clean.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), clean)
    made = add(clean, "clean", parents=["raw@v1"], project=PROJECT, client=data_client).version
    parent = show("raw@v1", project=PROJECT, client=data_client)
    assert made.parents == [parent.ref]
    view = lineage("raw@v1", project=PROJECT, client=data_client)
    assert {"src": made.ref, "relation": "derived_from", "dst": parent.ref} in view.downstream
    assert lineage("clean@v1", project=PROJECT, client=data_client).upstream[0]["dst"] == parent.ref
    removed = rm("raw", project=PROJECT, client=data_client)
    assert removed.deleted
    assert [d.name for d in ls(project=PROJECT, client=data_client).items] == ["clean"]
    with pytest.raises(NotFound):
        rm("raw", project=PROJECT, client=data_client)


def test_lineage_shows_runs_that_used_a_version(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    version = add(path, "t", project=PROJECT, client=data_client).version
    run = data_client.runs.create(project=PROJECT, name="train")
    data_client.runs.use(run_id=run.id, refs=[version.ref])
    view = lineage("t@v1", project=PROJECT, client=data_client)
    assert {"src": f"run:{run.id}", "relation": "used", "dst": version.ref} in view.downstream


def test_a_run_uses_a_dataset_by_its_address(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    v1 = add(path, "t", project=PROJECT, client=data_client).version
    pq.write_table(pa.table({"x": [1, 2, 3]}), path)
    v2 = add(path, "t", project=PROJECT, client=data_client).version
    run = data_client.runs.create(project=PROJECT, name="train")
    edges = data_client.runs.use(run_id=run.id, refs=["t@v1", f"{PROJECT}/t@latest"])
    assert [e.dst for e in edges] == [v1.ref, v2.ref]
    with pytest.raises(NotFound, match="no dataset 'nope'"):
        data_client.runs.use(run_id=run.id, refs=["t@v2", "nope@v1"])
    with pytest.raises(NotFound, match="has no version 'v9'"):
        data_client.runs.use(run_id=run.id, refs=["t@v9"])
    with pytest.raises(InvalidInput, match="not a dataset address"):
        data_client.runs.use(run_id=run.id, refs=["t@@v1"])
    used = [e["dst"] for e in lineage("t@v2", project=PROJECT, client=data_client).downstream]
    assert used == [v2.ref]  # the failed calls recorded nothing


def test_add_names_project_in_the_name_and_refuses_a_version(data_client: Client, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1]}), path)
    version = add(path, f"{PROJECT}/named", client=data_client).version
    assert (version.project, version.dataset) == (PROJECT, "named")
    with pytest.raises(InvalidInput, match="without a version"):
        add(path, "named@v2", project=PROJECT, client=data_client)
