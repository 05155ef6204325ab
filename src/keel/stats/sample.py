"""A uniform random sample of rows from a stream of record batches, in bounded memory.

Bottom-k sampling: every row gets a random key and the sample is the ``k``
rows with the smallest keys seen so far. That is a uniform sample without
replacement (the same as Algorithm R's reservoir) but works on whole batches
with NumPy instead of one row at a time, and holds at most ``k`` rows plus one
batch.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


class ReservoirSampler:
    """Keeps a uniform sample of at most ``size`` rows; rows come back in stream order."""

    def __init__(self, schema: pa.Schema, size: int = 100_000, *, seed: int = 0) -> None:
        if size < 0:
            raise ValueError("sample size must be >= 0")
        self.schema = schema
        self.size = size
        self.seen = 0
        self._rng = np.random.default_rng(seed)
        self._rows: pa.Table = schema.empty_table()
        self._keys = np.zeros(0, dtype=np.float64)
        self._positions = np.zeros(0, dtype=np.int64)

    def update(self, batch: pa.RecordBatch) -> None:
        """Offer every row of ``batch`` to the sample."""
        n = batch.num_rows
        keys = self._rng.random(n)
        positions = np.arange(self.seen, self.seen + n, dtype=np.int64)
        self.seen += n
        if self.size == 0 or n == 0:
            return
        if len(self._keys) >= self.size:
            threshold = float(self._keys.max())
            take = np.nonzero(keys < threshold)[0]
            if not len(take):
                return
            keys, positions = keys[take], positions[take]
            batch = batch.take(pa.array(take))
        rows = pa.concat_tables([self._rows, pa.Table.from_batches([batch], schema=self.schema)])
        all_keys = np.concatenate([self._keys, keys])
        all_positions = np.concatenate([self._positions, positions])
        if len(all_keys) > self.size:
            keep = np.sort(np.argpartition(all_keys, self.size - 1)[: self.size])
            rows = rows.take(pa.array(keep))
            all_keys, all_positions = all_keys[keep], all_positions[keep]
        self._rows, self._keys, self._positions = rows.combine_chunks(), all_keys, all_positions

    def result(self) -> pa.Table:
        """The sample, in the order its rows appeared in the stream."""
        order = np.argsort(self._positions, kind="stable")
        return self._rows.take(pa.array(order))
