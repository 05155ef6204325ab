"""The filter tree compiled to SQL: one set of run ids, built by set operations.

Each comparison becomes one uncorrelated ``SELECT run_id`` over its table,
restricted to the project (``run_latest_metrics`` has one row per run and key,
so does ``run_params`` and ``run_tags``; attributes are columns of ``runs``);
``and`` is ``INTERSECT`` and ``or`` is ``UNION`` of its parts, and the query
keeps the runs whose id is in the result. The cost therefore grows linearly
with the comparisons: each is planned on its own and read once by an index,
and the set operations merge sorted or hashed id lists.

Why not one ``EXISTS`` per comparison, as before: PostgreSQL pulls every
top-level ``EXISTS`` up into a semi-join and searches join orders over all of
them (a 50-term filter planned for 9 s, 100 terms for minutes), and SQLite's
cost per correlated subquery grows with their number (quadratic in terms).
Pivoting each run's values into one row costs keys x comparisons per run,
and one join per key hits SQLite's 64-table limit; both were measured slower.

Values follow one rule, held equal to a plain Python evaluation by the
property test (``tests/tracking/test_filter_property.py``): a run lacking the
field (no such metric, param or tag; a NaN metric; an empty attribute such as
``end_time`` of a running run or ``kpi_passed`` of a run without KPIs)
matches no comparison, ``!=`` and ``not in`` included. Text compares by code
point on both databases (``COLLATE "C"`` on PostgreSQL); ``like`` is case
sensitive (SQLite's ``GLOB`` underneath), ``ilike`` is not (ASCII letters on
SQLite); ``%`` and ``_`` are the only wildcards and there is no escape character.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, intersect, not_, or_, select, union

from keel.core.errors import InvalidInput
from keel.tracking.filter import Bool, Compare, Field, Node, Value, syntax_error
from keel.tracking.models import LatestMetricRow, ParamRow, RunRow, TagRow

ATTRIBUTES: Final = {
    "id": RunRow.id,
    "run_id": RunRow.id,
    "name": RunRow.name,
    "run_name": RunRow.name,
    "status": RunRow.status,
    "user": RunRow.user,
    "parent_id": RunRow.parent_id,
    "start_time": RunRow.start_time,
    "end_time": RunRow.end_time,
    "duration": RunRow.duration,
    "cost": RunRow.cost,
    "energy_kwh": RunRow.energy_kwh,
    "kpi_passed": RunRow.kpi_passed,
}
TIMES: Final = frozenset({"start_time", "end_time"})
NUMBERS: Final = frozenset({"duration", "cost", "energy_kwh"})
BOOLEANS: Final = frozenset({"kpi_passed"})
_ORDERED: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_LIKES: Final = frozenset({"like", "not like", "ilike", "not ilike"})
_EQUALITIES: Final = frozenset({"=", "!=", "in", "not in"})
#: Parts per INTERSECT/UNION: SQLite refuses compounds of more than 500 selects.
_CHUNK: Final = 100
#: The kinds of params that compare as text with '=', '<', 'in' ... (numbers compare as numbers).
TEXT_KINDS: Final = ("str", "bool", "json")

Ids = Select[Any] | CompoundSelect[Any]


def _glob(pattern: str) -> str:
    """A LIKE pattern (``%``, ``_``; no escape) as a SQLite GLOB pattern, which is case sensitive."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(c, c) for c in pattern)


class _Compiler:
    def __init__(self, text: str, project_id: str, dialect: str) -> None:
        self.text = text
        self.project_id = project_id
        self.postgres = dialect == "postgresql"

    def error(self, field: Field, message: str) -> InvalidInput:
        return syntax_error(self.text, field.pos, message)

    # -- one comparison -------------------------------------------------------------------------

    def compare(self, column: Any, op: str, values: Sequence[Any], *, text: bool) -> ColumnElement[bool]:
        """``column <op> values``; text orders by code point, ``like`` is case sensitive everywhere."""
        if op == "in":
            return column.in_(list(values))  # type: ignore[no-any-return]
        if op == "not in":
            return column.not_in(list(values))  # type: ignore[no-any-return]
        value = values[0]
        if op in _LIKES:
            if self.postgres:
                escaped = value.replace("\\", "\\\\")  # backslash is PostgreSQL's escape; make it literal
                matched = column.ilike(escaped) if "ilike" in op else column.like(escaped)
            else:
                matched = (
                    column.ilike(value)
                    if "ilike" in op
                    else column.op("GLOB", is_comparison=True)(_glob(value))
                )
            return not_(matched) if op.startswith("not") else matched  # type: ignore[no-any-return]
        if op == "=":
            return column == value  # type: ignore[no-any-return]
        if op == "!=":
            return column != value  # type: ignore[no-any-return]
        if text and self.postgres:
            column = column.collate("C")
        return _ORDERED[op](column, value)  # type: ignore[no-any-return]

    def attribute(self, node: Compare) -> ColumnElement[bool]:
        field, op = node.field, node.op
        column = ATTRIBUTES.get(field.key)
        if column is None:
            raise self.error(
                field, f"unknown attribute {field.key!r}; one of " + ", ".join(sorted(ATTRIBUTES))
            )
        name = field.key
        if name in BOOLEANS:
            if op not in _EQUALITIES:
                raise self.error(field, f"{field} is true or false; compare it with =, !=, in or not in")
            return self.compare(column, op, [self.boolean(field, v) for v in node.values], text=False)
        if op in _LIKES and (name in TIMES or name in NUMBERS):
            raise self.error(
                field, f"'{op}' needs text, and {field} is a {'time' if name in TIMES else 'number'}"
            )
        if name in TIMES:
            return self.compare(column, op, [self.time(field, v) for v in node.values], text=False)
        if name in NUMBERS:
            if any(not isinstance(v, float) for v in node.values):
                raise self.error(field, f"{field} is a number; compare it with a number")
            return self.compare(column, op, node.values, text=False)
        if any(not isinstance(v, str) for v in node.values):
            raise self.error(field, f"{field} is text; compare it with a quoted string")
        return self.compare(column, op, node.values, text=True)

    def boolean(self, field: Field, value: Value) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value in (0.0, 1.0):
            return value == 1.0
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.error(field, f"{field} is true or false (1 or 0), not {value!r}")

    def time(self, field: Field, value: Value) -> datetime:
        if isinstance(value, bool):
            raise self.error(field, f"{field} takes Unix milliseconds or an ISO time, not {value}")
        if isinstance(value, float):
            try:
                return datetime.fromtimestamp(value / 1000, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise self.error(field, f"{field}: {value:g} ms is out of the range of times") from None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self.error(
                field, f"{field} takes Unix milliseconds or an ISO time, not {value!r}"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def entity(self, node: Compare) -> tuple[Any, ColumnElement[bool]]:
        """(table, condition on its row) for a metric, param or tag comparison."""
        field, op, values = node.field, node.op, node.values
        kinds = {type(v) for v in values}
        if field.entity == "metrics":
            if op in _LIKES:
                raise self.error(field, f"'{op}' needs text, and {field} is a number")
            if kinds != {float}:
                raise self.error(field, f"{field} is a number; compare it with a number")
            return LatestMetricRow, self.compare(LatestMetricRow.value, op, values, text=False)
        if field.entity == "tags":
            if kinds != {str}:
                raise self.error(field, f"{field} is text; compare it with a quoted string")
            return TagRow, self.compare(TagRow.value, op, values, text=True)
        p = ParamRow
        if len(kinds) > 1:
            raise self.error(field, f"compare {field} with numbers, strings or true/false, not a mix")
        if op in _LIKES:
            if kinds != {str}:
                raise self.error(field, f"'{op}' needs a quoted pattern")
            return p, self.compare(p.value, op, values, text=True)
        if kinds == {float}:
            return p, self.compare(p.value_num, op, values, text=False)
        if kinds == {bool}:
            if op not in _EQUALITIES:
                raise self.error(field, f"true and false compare with =, !=, in or not in, not '{op}'")
            texts = ["true" if v else "false" for v in values]
            return p, (p.kind == "bool") & self.compare(p.value, op, texts, text=True)
        return p, p.kind.in_(TEXT_KINDS) & self.compare(p.value, op, values, text=True)

    def leaf(self, node: Compare) -> tuple[Any, ColumnElement[bool]]:
        """(table, condition on one of its rows) for one comparison; ``runs`` for an attribute."""
        if node.field.entity == "attributes":
            return RunRow, self.attribute(node)
        return self.entity(node)

    def ids(self, table: Any, key: str | None, condition: ColumnElement[bool]) -> Select[Any]:
        """The ids of the project's runs whose row of ``table`` (for ``key``) meets ``condition``."""
        if table is RunRow:
            return select(RunRow.id.label("run_id")).where(RunRow.project_id == self.project_id, condition)
        return (
            select(table.run_id.label("run_id"))
            .join(RunRow, RunRow.id == table.run_id)
            .where(RunRow.project_id == self.project_id, table.key == key, condition)
        )

    # -- and / or -------------------------------------------------------------------------------

    def node(self, node: Node) -> Ids:
        """The ids of the project's runs matching ``node``.

        Comparisons of one and/or group that read the same row (the same metric,
        param or tag key, or the run's own columns) share one SELECT, their
        conditions joined by the group's operator: a run has one row per key,
        so ``EXISTS(a) AND EXISTS(b)`` on that row is ``EXISTS(a AND b)``.
        """
        if isinstance(node, Compare):
            table, condition = self.leaf(node)
            return self.ids(table, node.field.key, condition)
        join = and_ if node.op == "and" else or_
        rows: dict[tuple[str, str], tuple[Any, list[ColumnElement[bool]]]] = {}
        parts: list[Ids] = []
        for part in _flatten(node):
            if isinstance(part, Bool):
                parts.append(self.node(part))
                continue
            table, condition = self.leaf(part)
            row = (part.field.entity, "" if table is RunRow else part.field.key)
            rows.setdefault(row, (table, []))[1].append(condition)
        for (_, key), (table, conditions) in rows.items():
            parts.append(self.ids(table, key, join(*conditions)))
        return self.combine(node.op, parts)

    def combine(self, op: str, parts: list[Ids]) -> Ids:
        """INTERSECT (and) or UNION (or) of ``parts``, nested in chunks SQLite accepts."""
        if len(parts) == 1:
            return parts[0]
        if len(parts) > _CHUNK:
            parts = [self.combine(op, parts[i : i + _CHUNK]) for i in range(0, len(parts), _CHUNK)]
        combined = (intersect if op == "and" else union)(*(_as_select(p) for p in parts))
        return combined


def _as_select(ids: Ids) -> Select[Any]:
    """A compound as a plain SELECT, so it can be one part of another (SQLite has no parenthesised compounds)."""
    if isinstance(ids, Select):
        return ids
    sub = ids.subquery()
    return select(sub.c.run_id)


def _flatten(node: Bool) -> list[Node]:
    """The parts of ``node``, with parenthesised parts of the same operator spliced in.

    ``a and (b and c)`` is one INTERSECT of three, not two nested ones.
    """
    parts: list[Node] = []
    stack = list(reversed(node.parts))
    while stack:
        part = stack.pop()
        if isinstance(part, Bool) and part.op == node.op:
            stack.extend(reversed(part.parts))
        else:
            parts.append(part)
    return parts


def compile_filter(tree: Node, text: str, project_id: str, dialect: str) -> ColumnElement[bool]:
    """A condition on ``runs`` that holds for the project's runs matching ``tree``.

    ``text`` is the filter as written (errors quote it with a caret); ``dialect``
    the database's (``sqlite`` or ``postgresql``). Raises InvalidInput when a
    field cannot be compared as written (a number with text, ``like`` on a metric).
    """
    ids = _Compiler(text, project_id, dialect).node(tree)
    return RunRow.id.in_(_as_select(ids))
