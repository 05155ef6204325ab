"""Infer a suite from a reference table: what the reference looks like becomes the rules new data must meet.

The inferred bounds are deliberately loose where sampling noise would make
clean batches fail (a range widened by a tolerance, a null-rate bound above
the reference's rate), and exact where any deviation is a real change (types,
a categorical domain, uniqueness of an id, a format every value follows).
Review and edit the YAML it writes; it is a starting point, not a verdict.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from keel.core.errors import InvalidInput
from keel.stats.checks import as_array, not_matching, null_count
from keel.stats.schema import column_kind
from keel.validation.suite import ColumnRules, RowRules, Suite

#: At most this many distinct values make a column categorical (a domain and a chi-square test).
MAX_DOMAIN: Final = 50
#: An integer value seen in fewer than this share of rows marks a count, not a code (no domain).
RARE: Final = 0.005
#: Range tolerance: half the reference's span on each side (a batch of 1,000 from a 4,000-row reference exceeds its max one time in five).
TOLERANCE: Final = 0.5
#: Formats recognised in text columns, tried in order; a column gets one only if every value matches.
FORMATS: Final = {
    "uuid": r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    "date": r"\d{4}-\d{2}-\d{2}",
    "email": r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}",
    "digits": r"\d+",
    "code": r"[A-Z]{1,5}-?\d+",
}


def infer_suite(table: pa.Table, *, name: str, reference: str | None, reference_digest: str | None) -> Suite:
    """A suite describing ``table``; InvalidInput when it has no rows or no columns to describe."""
    if table.num_columns == 0:
        raise InvalidInput(f"{reference or name} has no columns to infer a suite from")
    if table.num_rows == 0:
        raise InvalidInput(
            f"{reference or name} has no rows to infer a suite from",
            hint="infer from a version with data, or write the suite by hand",
        )
    columns = {field.name: infer_column(table.column(field.name), field.type) for field in table.schema}
    if reference is None:  # nothing to compare distributions with
        for rules in columns.values():
            rules.distribution = False
    return Suite(
        name=name,
        reference=reference,
        reference_digest=reference_digest,
        rows=RowRules(min=1, max=None),
        columns=columns,
    )


def infer_column(column: pa.ChunkedArray | pa.Array, dtype: pa.DataType) -> ColumnRules:
    """The rules one column of the reference meets."""
    values = as_array(column)
    kind = column_kind(dtype)
    rows = len(values)
    nulls = null_count(values)
    rate = nulls / rows
    rules = ColumnRules(
        type=str(values.type),
        kind=kind,
        nullable=nulls > 0,
        max_null_rate=round(min(1.0, rate * 1.5 + 0.01), 4) if nulls else 0.0,
    )
    present = values.filter(pc.is_valid(values))
    if kind == "float":
        present = present.filter(pc.invert(pc.is_nan(present)))
    if len(present) == 0:  # an all-null column: nothing to infer beyond its nulls
        return rules
    distinct = pc.count_distinct(present).as_py()
    if kind in ("integer", "float"):
        low, high = pc.min_max(present).values()
        rules.min, rules.max = _round(low.as_py()), _round(high.as_py())
        rules.tolerance = TOLERANCE
    small = kind in ("string", "boolean") or (
        kind == "integer" and distinct <= min(MAX_DOMAIN, 20) and _codes(present)
    )
    if small and distinct <= MAX_DOMAIN:
        rules.domain = sorted(pc.unique(present).to_pylist(), key=lambda v: (str(type(v)), v))
    if kind in ("integer", "string") and distinct == rows and rules.domain is None:
        # An id: unique, and new batches bring new ids, so neither its range nor its distribution is a rule.
        rules.unique = True
        rules.min = rules.max = rules.tolerance = None
    if kind == "string" and rules.domain is None:
        rules.pattern = _format_of(present)
    # An id (unique) is different in every batch by design; text without a domain has no distribution to test.
    rules.distribution = not rules.unique and (
        kind in ("integer", "float", "boolean") or rules.domain is not None
    )
    return rules


def _codes(values: pa.Array) -> bool:
    """Whether integers look like codes (every value common) rather than counts with a rare tail.

    A count (support calls, say) has values a new batch may reach that the
    reference saw rarely or never; a domain on it fails clean batches. Its
    range (with tolerance) and distribution test hold it instead.
    """
    counts = pc.value_counts(values).field("counts")
    return bool(pc.min(counts).as_py() >= max(5, RARE * len(values)))


def _round(value: float) -> float:
    """Six significant digits: readable in the YAML, and the tolerance covers the rounding."""
    return float(f"{value:.6g}")


def _format_of(values: pa.Array) -> str | None:
    """The first known format every value matches, or None."""
    for pattern in FORMATS.values():
        if not_matching(values, pattern).count == 0:
            return pattern
    return None
