"""Differences between two profiles of the same table, column by column.

Used by ``keel data diff`` to show how a new version moved, and meant for
drift reports: everything here reads profiles only, never the data.
"""

from __future__ import annotations

from keel.stats.models import ColumnDelta, ColumnProfile, Scalar, StatDelta, TableProfile

_STATS = ("count", "nulls", "distinct", "min", "max", "mean", "std")


def _value(profile: ColumnProfile, stat: str) -> Scalar:
    value = getattr(profile, stat)
    return value  # type: ignore[no-any-return]


def compare_columns(before: ColumnProfile, after: ColumnProfile) -> ColumnDelta:
    """The statistics of a column that differ between two profiles."""
    deltas: list[StatDelta] = []
    stats = list(_STATS)
    quantiles = sorted(set(before.quantiles or {}) | set(after.quantiles or {}))
    for stat in stats:
        old, new = _value(before, stat), _value(after, stat)
        if old != new:
            deltas.append(StatDelta(stat=stat, before=old, after=new, change=_change(old, new)))
    for name in quantiles:
        old_q = (before.quantiles or {}).get(name)
        new_q = (after.quantiles or {}).get(name)
        if old_q != new_q:
            deltas.append(StatDelta(stat=name, before=old_q, after=new_q, change=_change(old_q, new_q)))
    if before.null_fraction != after.null_fraction:
        deltas.append(
            StatDelta(
                stat="null_fraction",
                before=before.null_fraction,
                after=after.null_fraction,
                change=after.null_fraction - before.null_fraction,
            )
        )
    added: list[str] = []
    removed: list[str] = []
    if before.categories is not None and after.categories is not None:
        added = sorted(set(after.categories) - set(before.categories))
        removed = sorted(set(before.categories) - set(after.categories))
    return ColumnDelta(column=after.name, deltas=deltas, categories_added=added, categories_removed=removed)


def _change(old: Scalar, new: Scalar) -> float | None:
    if isinstance(old, bool) or isinstance(new, bool):
        return None
    if isinstance(old, int | float) and isinstance(new, int | float):
        return float(new) - float(old)
    return None


def compare_profiles(before: TableProfile, after: TableProfile) -> list[ColumnDelta]:
    """Per-column changes for the columns both profiles have, in the newer profile's order."""
    old = {c.name: c for c in before.columns}
    out = []
    for column in after.columns:
        prev = old.get(column.name)
        if prev is None:
            continue
        delta = compare_columns(prev, column)
        if delta.deltas or delta.categories_added or delta.categories_removed:
            out.append(delta)
    return out
