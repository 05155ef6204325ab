"""Batch scoring: a registered model over a dataset version, in chunks, recorded as a new version.

Behind ``keel model predict MODEL --data DATASET@VERSION --out FILE.parquet``.
The input's Parquet parts are read one record batch at a time
(``chunk_rows`` rows), each predicted and appended to the output, so memory
holds one chunk whatever the dataset's size. The output keeps every input
column and adds ``prediction``; it is written beside ``out`` and renamed into
place only when complete. It is then versioned as a dataset
(``derived_from`` the input) and its lineage names the model version
(``predicted_by``), so the scores lead back to both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from keel.client import Client
from keel.core.errors import AlreadyExists, InvalidInput

PREDICTION = "prediction"


def _column(predictions: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    array = np.asarray(predictions)
    if array.ndim > 1:
        return pa.array([row.tolist() for row in array])
    return pa.array(array.tolist() if array.dtype.kind == "O" else array)


def score(
    model: str,
    data: str,
    out: Path,
    *,
    project: str,
    client: Client,
    name: str | None = None,
    chunk_rows: int = 50_000,
    allow_unsafe_pickle: bool = False,
    progress: Callable[[int], None] | None = None,
) -> tuple[Any, int]:
    """Score dataset version ``data`` with ``model``; returns (the output's dataset version, rows scored).

    Raises InvalidInput for an output that is not ``.parquet``, a folder
    dataset, a ``prediction`` column already in the input or an input the
    model's signature refuses (naming the column); AlreadyExists when ``out``
    exists; NotFound for an unknown model or dataset. Nothing is written or
    recorded on any of these.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from keel.data.addresses import resolve
    from keel.data.staging import staging_for
    from keel.data.versioning import add
    from keel.models import load_dir
    from keel.sdk import fetch_model

    if out.suffix != ".parquet":
        raise InvalidInput(f"--out {out} must be a .parquet file")
    if out.exists():
        raise AlreadyExists(f"{out} exists already; choose another --out")
    if chunk_rows < 1:
        raise InvalidInput(f"chunk_rows is {chunk_rows}; it must be at least 1")
    version = resolve(data, project=project, client=client)
    if version.kind != "table":
        raise InvalidInput(
            f"{version.address} is a folder of files, not a table: nothing to score row by row"
        )
    registered = client.models.get(project=project, ref=model)
    loaded = load_dir(fetch_model(model, project=project, client=client), unsafe_pickle=allow_unsafe_pickle)
    signature = loaded.signature
    wanted = [c.name for c in signature.inputs.columns] if signature and signature.inputs.columns else None
    staging = staging_for(client)
    staging.fetch_version(version)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex}.partial")
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for digest in version.table_parts:
            with staging.store.open(digest) as handle:
                for batch in pq.ParquetFile(handle).iter_batches(batch_size=chunk_rows):
                    table = pa.Table.from_batches([batch])
                    if PREDICTION in table.column_names:
                        raise InvalidInput(f"{version.address} has a column {PREDICTION!r} already")
                    frame = table.to_pandas()
                    if wanted is not None:
                        missing = [c for c in wanted if c not in frame.columns]
                        if missing:
                            raise InvalidInput(
                                f"{version.address} has no column {missing[0]!r}, an input of {model}"
                            )
                        frame = frame[wanted]
                    table = table.append_column(PREDICTION, _column(loaded.predict(frame)))
                    if writer is None:
                        writer = pq.ParquetWriter(partial, table.schema, compression="zstd")
                    writer.write_table(table)
                    rows += table.num_rows
                    if progress is not None:
                        progress(rows)
        if writer is None:
            raise InvalidInput(f"{version.address} has no rows to score")
        writer.close()
        writer = None
        partial.rename(out)
    finally:
        if writer is not None:
            writer.close()
        partial.unlink(missing_ok=True)
    added = add(
        out,
        name=name or out.stem,
        message=f"predictions of {registered.model}@{registered.number} on {version.address}",
        project=project,
        pointer=False,
        parents=[version.address],
        client=client,
    )
    client.predictions.record_scoring(project=project, output=added.version.ref, model_version=registered.ref)
    return added.version, rows
