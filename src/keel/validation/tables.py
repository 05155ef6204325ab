"""Reading a table version's rows from the artifact store, beside the data (a remote caller downloads nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.context import Context
from keel.core.errors import InvalidInput

if TYPE_CHECKING:
    import pyarrow as pa

    from keel.datasets.schemas import DatasetVersion


def read_table(ctx: Context, version: DatasetVersion) -> pa.Table:
    """A table version's rows, read from its Parquet parts; InvalidInput for a folder-of-files version."""
    if version.kind != "table":
        raise InvalidInput(f"{version.address} is a folder of files; validation needs a table")
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = []
    for digest in version.table_parts:
        with ctx.artifacts.open(digest) as handle:
            parts.append(pq.read_table(handle))
    if not parts:
        raise InvalidInput(f"{version.address} has no table parts to read")
    return pa.concat_tables(parts) if len(parts) > 1 else parts[0]
