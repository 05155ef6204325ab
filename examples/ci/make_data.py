"""Write the customer table the CI pipeline trains on (a real job would fetch its own export)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

from keel.samples import customers_table

if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "data/customers.parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(customers_table(int(sys.argv[2]) if len(sys.argv) > 2 else 2000), target)
    print(f"wrote {target}")
