"""Projects, runs, one run, and runs compared: the experiment-tracking pages.

Each page names its JSON twin (the REST route of the operation it calls) in
a link at the top, and reads nothing but those operations' answers.
"""

from __future__ import annotations

import re
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keel.core.errors import InvalidInput
from keel.core.operations import Caller
from keel.tracking.compare import compare
from keel.ui.web import UI

PAGE_SIZES: Final = (25, 50, 100, 200)
#: How many metric and param columns the runs table shows (the most common keys of the page).
METRIC_COLUMNS: Final = 8
PARAM_COLUMNS: Final = 6
MAX_COMPARED: Final = 8
_PLAIN_KEY: Final = re.compile(r"[A-Za-z0-9_./\-]+")
ATTRIBUTE_COLUMNS: Final = (
    ("attributes.name", "name"),
    ("attributes.status", "status"),
    ("attributes.user", "user"),
    ("attributes.start_time", "started"),
    ("attributes.duration", "duration"),
)


def field(entity: str, key: str) -> str:
    """A search-language field for ``key`` (in backticks when it needs them)."""
    return f"{entity}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{entity}.`{key}`"


def int_param(request: Request, name: str, default: int | None = None) -> int | None:
    """An integer query parameter; InvalidInput naming it when it is not one."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be an integer, got {raw!r}") from None


def _columns(items: list[Any], attr: str, limit: int) -> list[str]:
    counts: dict[str, int] = {}
    for item in items:
        for key in getattr(item, attr):
            counts[key] = counts.get(key, 0) + 1
    return sorted(counts, key=lambda k: (-counts[k], k))[:limit]


def routes(ui: UI) -> list[Any]:
    """The tracking pages' routes."""
    ops = ui.ops

    def projects(request: Request, caller: Caller) -> Response:
        token = request.query_params.get("page") or None
        page = ops.call(caller, "projects.ls", limit=100, page_token=token)
        return ui.render(
            request, "projects.html", caller=caller, page=page, json_twin=ops.path("projects.ls")
        )

    def project(request: Request, caller: Caller) -> Response:
        name = request.path_params["project"]
        found = ops.call(caller, "projects.get", name=name)
        latest = ops.call(
            caller,
            "runs.search",
            project=name,
            filter="attributes.status = 'FINISHED'",
            order_by=["attributes.start_time desc"],
            limit=1,
        )
        judged = ops.call(caller, "runs.get", run_id=latest.items[0].id) if latest.items else None
        return ui.render(
            request,
            "project.html",
            caller=caller,
            project=found,
            judged=judged,
            json_twin=ops.path("projects.get", name=name),
        )

    def runs(request: Request, caller: Caller) -> Response:
        name = request.path_params["project"]
        found = ops.call(caller, "projects.get", name=name)
        text = (request.query_params.get("filter") or "").strip()
        order = (request.query_params.get("order") or "attributes.start_time desc").strip()
        limit = int_param(request, "limit", 50) or 50
        if limit not in PAGE_SIZES:
            raise InvalidInput(f"limit must be one of {', '.join(map(str, PAGE_SIZES))}, got {limit}")
        token = request.query_params.get("page") or None
        error, status = None, 200
        page = None
        try:
            page = ops.call(
                caller,
                "runs.search",
                project=name,
                filter=text or None,
                order_by=[order],
                limit=limit,
                page_token=token,
            )
        except InvalidInput as exc:  # a filter or order the search refuses: shown in the page
            error, status = exc.message, exc.status
        items = page.items if page else []
        values = {
            "caller": caller,
            "project": found,
            "filter": text,
            "order": order,
            "limit": limit,
            "page": page,
            "error": error,
            "metric_keys": _columns(items, "metrics", METRIC_COLUMNS),
            "param_keys": _columns(items, "params", PARAM_COLUMNS),
            "attribute_columns": ATTRIBUTE_COLUMNS,
            "field": field,
            "json_twin": ops.path("runs.search"),
        }
        if request.headers.get("hx-request"):
            return ui.render(request, "runs_table.html", status=status, **values)
        return ui.render(request, "runs.html", status=status, **values)

    def run(request: Request, caller: Caller) -> Response:
        run_id = request.path_params["run_id"]
        record = ops.call(caller, "runs.get", run_id=run_id)
        lineage = ops.call(caller, "runs.lineage", run_id=record.id)
        keys = sorted(record.metrics)
        return ui.render(
            request,
            "run.html",
            caller=caller,
            run=record,
            lineage=lineage,
            metric_keys=[k for k in keys if not k.startswith("system/")],
            system_keys=[k for k in keys if k.startswith("system/")],
            json_twin=ops.path("runs.get", run_id=record.id),
        )

    def series(request: Request, caller: Caller) -> Response:
        """The run's metric as ``runs.metric_series`` answers it (GET /api/v1/runs/{id}/series), for the charts."""
        key = request.query_params.get("key") or ""
        if not key:
            raise InvalidInput("key is required: the metric to draw")
        found = ops.call(
            caller,
            "runs.metric_series",
            run_id=request.path_params["run_id"],
            key=key,
            points=int_param(request, "points", 2000),
            lo=int_param(request, "lo"),
            hi=int_param(request, "hi"),
        )
        return JSONResponse(found.model_dump(mode="json"))

    def compared(request: Request, caller: Caller) -> Response:
        ids = [i for i in request.query_params.getlist("run") if i]
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise InvalidInput(f"choose between 2 and {MAX_COMPARED} runs to compare, got {len(ids)}")
        records = [ops.call(caller, "runs.get", run_id=i) for i in ids]
        table = compare(records)
        keys = sorted({k for r in records for k in r.metrics if not k.startswith("system/")})
        return ui.render(
            request,
            "compare.html",
            caller=caller,
            runs=records,
            table=table,
            metric_keys=keys,
            json_twin=ops.path("runs.get", run_id=records[0].id),
        )

    return [
        Route("/ui/", ui.page(projects)),
        Route("/ui/p/{project}", ui.page(project)),
        Route("/ui/p/{project}/runs", ui.page(runs)),
        Route("/ui/runs/{run_id}", ui.page(run)),
        Route("/ui/runs/{run_id}/series", ui.page(series, json_errors=True)),
        Route("/ui/compare", ui.page(compared)),
    ]
