"""Run search in SQL: the filter (compiled by :mod:`keel.tracking.filter_sql`), order and pages.

The filter becomes one set of run ids built by INTERSECT/UNION of one indexed
SELECT per comparison, so its cost grows linearly with its comparisons; its
size is bounded by :class:`keel.tracking.filter.Limits` before any SQL runs.
Order keys join the one row they need. Only the page's runs are read, then their
params, final metrics and tags in three column-projected queries -- never a
run through the ORM. Pages are keyset cursors: the token holds the sort
values of the page's last run (the run id breaks ties) and a fingerprint of
the query, so runs added meanwhile neither repeat nor shift later pages, and a
token from another query (or a tampered one) is refused.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from keel.core.errors import InvalidInput
from keel.core.kpi import KPIReport
from keel.core.paging import check_page_size, decode_token, encode_token
from keel.tracking.filter import Field, Limits, OrderKey, parse_filter, parse_order_by, syntax_error
from keel.tracking.filter_sql import ATTRIBUTES, compile_filter
from keel.tracking.models import LatestMetricRow, ParamRow, RunRow, TagRow
from keel.tracking.schemas import RunSummary
from keel.tracking.values import decode_param


def _field_error(field: Field, text: str, message: str) -> InvalidInput:
    return syntax_error(text, field.pos, message)


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
    limits: Limits | None = None,
) -> tuple[list[RunSummary], str | None]:
    """One page of the project's runs matching the filter, in order, with params, metrics and tags.

    ``limits`` bound the filter and the order keys (default: the settings' defaults);
    a filter past them, or malformed, raises InvalidInput with a caret under the mistake.
    """
    check_page_size(limit)
    tree = parse_filter(filter_string, limits)
    keys = parse_order_by(order_by, limits)
    fingerprint = hashlib.sha256(
        json.dumps([project_id, filter_string or "", order_by or [], include_deleted]).encode()
    ).hexdigest()[:16]
    where = [RunRow.project_id == project_id, true() if include_deleted else RunRow.deleted == false()]
    if tree is not None:
        dialect = session.get_bind().dialect.name
        where.append(compile_filter(tree, filter_string or "", project_id, dialect))
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
