"""Run search in SQL: the filter tree compiled to EXISTS clauses over indexed tables.

Each metric condition is an EXISTS on ``run_latest_metrics`` (primary key
run_id+key, index key+value); each param condition one on ``run_params``
(index key+value_num for numbers); attributes are columns of ``runs``. Order
keys join the one row they need. Only the page's runs are read, then their
params, final metrics and tags in three column-projected queries -- never a
run through the ORM. Pages are keyset cursors: the token holds the sort
values of the page's last run (the run id breaks ties) and a fingerprint of
the query, so runs added meanwhile neither repeat nor shift later pages, and a
token from another query (or a tampered one) is refused.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, exists, false, not_, or_, select, true
from sqlalchemy.orm import Session, aliased

from keel.core.errors import InvalidInput
from keel.core.kpi import KPIReport
from keel.core.paging import check_page_size, decode_token, encode_token
from keel.tracking.filter import Bool, Field, Node, OrderKey, Value, parse_filter, parse_order_by
from keel.tracking.models import LatestMetricRow, ParamRow, RunRow, TagRow
from keel.tracking.schemas import RunSummary
from keel.tracking.values import decode_param

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
_TIMES: Final = {"start_time", "end_time"}
_NUMBERS: Final = {"duration", "cost", "energy_kwh"}


def _field_error(field: Field, text: str, message: str) -> InvalidInput:
    from keel.tracking.filter import syntax_error

    return syntax_error(text, field.pos, message)


def _cmp(column: Any, op: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
    if op == "in":
        return column.in_(values)  # type: ignore[no-any-return]
    if op == "not in":
        return column.not_in(values)  # type: ignore[no-any-return]
    value = values[0]
    if op == "like":
        return column.like(value)  # type: ignore[no-any-return]
    if op == "not like":
        return not_(column.like(value))  # type: ignore[no-any-return]
    if op == "ilike":
        return column.ilike(value)  # type: ignore[no-any-return]
    if op == "not ilike":
        return not_(column.ilike(value))  # type: ignore[no-any-return]
    return {  # type: ignore[no-any-return]
        "=": column == value,
        "!=": column != value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }[op]


def _kinds(values: tuple[Value, ...]) -> set[type]:
    return {type(v) for v in values}


def _attribute_value(field: Field, value: Value, text: str) -> Any:
    name = field.key
    if name in _TIMES:
        if isinstance(value, float):
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _field_error(
                field, text, f"{field} takes Unix milliseconds or an ISO time, not {value!r}"
            ) from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if name in _NUMBERS and not isinstance(value, float):
        raise _field_error(field, text, f"{field} is a number; compare it with a number, not {value!r}")
    if name == "kpi_passed":
        return value in (1.0, "true", "True")
    if name not in _NUMBERS and isinstance(value, float):
        raise _field_error(field, text, f"{field} is text; compare it with a quoted string")
    return value


def _compile(node: Node, text: str) -> ColumnElement[bool]:
    if isinstance(node, Bool):
        parts = [_compile(p, text) for p in node.parts]
        return and_(*parts) if node.op == "and" else or_(*parts)
    field, op, values = node.field, node.op, node.values
    if field.entity == "attributes":
        column = ATTRIBUTES.get(field.key)
        if column is None:
            raise _field_error(
                field, text, f"unknown attribute {field.key!r}; one of " + ", ".join(sorted(ATTRIBUTES))
            )
        return _cmp(column, op, tuple(_attribute_value(field, v, text) for v in values))
    if field.entity == "metrics":
        if _kinds(values) != {float}:
            raise _field_error(field, text, f"{field} is a number; compare it with a number")
        if "like" in op:
            raise _field_error(field, text, f"'like' needs text, and {field} is a number")
        m = LatestMetricRow
        return exists().where(m.run_id == RunRow.id, m.key == field.key, _cmp(m.value, op, values))
    if field.entity == "params":
        p = ParamRow
        kinds = _kinds(values)
        if len(kinds) > 1:
            raise _field_error(field, text, f"compare {field} with numbers or with strings, not both")
        if kinds == {float}:
            if "like" in op:
                raise _field_error(field, text, "'like' needs a quoted pattern")
            condition = _cmp(p.value_num, op, values)
        else:
            condition = _cmp(p.value, op, values)
            if op not in ("like", "not like", "ilike", "not ilike"):
                condition = and_(condition, p.kind.in_(("str", "bool", "json")))
        return exists().where(p.run_id == RunRow.id, p.key == field.key, condition)
    if _kinds(values) != {str}:
        raise _field_error(field, text, f"{field} is text; compare it with a quoted string")
    t = TagRow
    return exists().where(t.run_id == RunRow.id, t.key == field.key, _cmp(t.value, op, values))


Component = tuple[Any, bool]  # (column expression, descending); missing values sort last


def _order(query: Select[Any], keys: list[OrderKey], text: str) -> tuple[Select[Any], list[Component]]:
    """Join what the order keys need; return the sort components, ending with the run id (unique)."""
    components: list[Component] = []
    for number, key in enumerate(keys):
        field = key.field
        column: Any
        if field.entity == "attributes":
            column = ATTRIBUTES.get(field.key)
            if column is None:
                raise _field_error(field, text, f"unknown attribute {field.key!r} to order by")
        elif field.entity == "metrics":
            alias = aliased(LatestMetricRow, name=f"om{number}")
            query = query.outerjoin(alias, and_(alias.run_id == RunRow.id, alias.key == field.key))
            column = alias.value
        elif field.entity == "params":
            alias_p = aliased(ParamRow, name=f"op{number}")
            query = query.outerjoin(alias_p, and_(alias_p.run_id == RunRow.id, alias_p.key == field.key))
            components.append((alias_p.value_num, key.descending))  # numbers by value, then text
            column = alias_p.value
        else:
            alias_t = aliased(TagRow, name=f"ot{number}")
            query = query.outerjoin(alias_t, and_(alias_t.run_id == RunRow.id, alias_t.key == field.key))
            column = alias_t.value
        components.append((column, key.descending))
    if not keys:
        components.append((RunRow.start_time, True))
    components.append((RunRow.id, True))
    clauses = []
    for column, descending in components:
        clauses.append(column.is_(None))  # missing values last, both directions
        clauses.append(column.desc() if descending else column.asc())
    return query.order_by(*clauses), components


def _after(components: list[Component], last: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``last`` in the order of ``components`` (keyset pagination, missing last)."""
    alternatives = []
    for i, (column, descending) in enumerate(components):
        same = [
            c.is_(None) if v is None else c == v for (c, _), v in zip(components[:i], last[:i], strict=True)
        ]
        value = last[i]
        if value is None:
            continue  # nothing sorts after a missing value within this component
        later = column < value if descending else column > value
        alternatives.append(and_(*same, or_(later, column.is_(None))))
    return or_(*alternatives) if alternatives else false()


def _encode_position(values: list[Any]) -> list[Any]:
    return [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in values]


def _decode_position(values: Any, size: int) -> list[Any]:
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput("page token is not valid for this search; start again without it")
    out: list[Any] = []
    for value in values:
        if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
            try:
                out.append(datetime.fromisoformat(value["t"]))
            except ValueError:
                raise InvalidInput(
                    "page token is not valid for this search; start again without it"
                ) from None
        elif value is None or isinstance(value, bool | int | float | str):
            out.append(value)
        else:
            raise InvalidInput("page token is not valid for this search; start again without it")
    return out


_COLUMNS: Final = (
    RunRow.id,
    RunRow.name,
    RunRow.status,
    RunRow.parent_id,
    RunRow.user,
    RunRow.start_time,
    RunRow.end_time,
    RunRow.duration,
    RunRow.cost,
    RunRow.kpi_passed,
    RunRow.kpi_report,
)


def search_runs(
    session: Session,
    project_id: str,
    filter_string: str | None,
    order_by: list[str] | None,
    limit: int,
    page_token: str | None,
    include_deleted: bool,
) -> tuple[list[RunSummary], str | None]:
    """One page of the project's runs matching the filter, in order, with params, metrics and tags."""
    check_page_size(limit)
    tree = parse_filter(filter_string)
    keys = parse_order_by(order_by)
    fingerprint = hashlib.sha256(
        json.dumps([project_id, filter_string or "", order_by or [], include_deleted]).encode()
    ).hexdigest()[:16]
    where = [RunRow.project_id == project_id, true() if include_deleted else RunRow.deleted == false()]
    if tree is not None:
        where.append(_compile(tree, filter_string or ""))
    query, components = _order(select(*_COLUMNS).where(*where), keys, " ".join(order_by or []))
    query = query.add_columns(*(column.label(f"_o{i}") for i, (column, _) in enumerate(components)))
    if page_token:
        position = decode_token(page_token, {"after", "query"})
        if position["query"] != fingerprint:
            raise InvalidInput("page token is not valid for this search; start again without it")
        query = query.where(_after(components, _decode_position(position["after"], len(components))))
    rows = session.execute(query.limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r.id for r in rows]
    params: dict[str, dict[str, Any]] = {i: {} for i in ids}
    metrics: dict[str, dict[str, float]] = {i: {} for i in ids}
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for run_id, key, kind, value in session.execute(
            select(ParamRow.run_id, ParamRow.key, ParamRow.kind, ParamRow.value).where(
                ParamRow.run_id.in_(chunk)
            )
        ):
            params[run_id][key] = decode_param(kind, value)
        for run_id, key, number in session.execute(
            select(LatestMetricRow.run_id, LatestMetricRow.key, LatestMetricRow.value).where(
                LatestMetricRow.run_id.in_(chunk)
            )
        ):
            metrics[run_id][key] = float("nan") if number is None else number
        for run_id, key, value in session.execute(
            select(TagRow.run_id, TagRow.key, TagRow.value).where(TagRow.run_id.in_(chunk))
        ):
            tags[run_id][key] = value
    items = [
        RunSummary(
            id=r.id,
            name=r.name,
            status=r.status,
            parent_id=r.parent_id,
            user=r.user,
            start_time=r.start_time,
            end_time=r.end_time,
            duration=r.duration,
            cost=r.cost,
            kpi_passed=r.kpi_passed,
            kpi_summary=KPIReport.model_validate(r.kpi_report).summary() if r.kpi_report else None,
            params=params[r.id],
            metrics=metrics[r.id],
            tags=tags[r.id],
        )
        for r in rows
    ]
    token = None
    if more:
        last = [rows[-1]._mapping[f"_o{i}"] for i in range(len(components))]
        token = encode_token({"after": _encode_position(last), "query": fingerprint})
    return items, token
