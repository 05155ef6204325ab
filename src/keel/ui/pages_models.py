"""Models: the project's registered models, one model's versions and aliases, and promotion.

The promote form is shown only to a caller the authorizer lets write to the
project (``models.promote`` needs WRITE); a forged promote POST from anyone
else is refused by the operation itself with 403, as over REST.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from keel.core.errors import InvalidInput
from keel.core.operations import Action, Caller
from keel.ui.web import UI


def routes(ui: UI) -> list[Any]:
    """The registry pages' routes."""
    ops = ui.ops

    def models(request: Request, caller: Caller) -> Response:
        name = request.path_params["project"]
        found = ops.call(caller, "projects.get", name=name)
        page = ops.call(
            caller, "models.ls", project=name, limit=200, page_token=request.query_params.get("page")
        )
        return ui.render(
            request,
            "models.html",
            caller=caller,
            project=found,
            page=page,
            json_twin=ops.path("models.ls", project=name),
        )

    def model(request: Request, caller: Caller, error: str | None = None, status: int = 200) -> Response:
        project, name = request.path_params["project"], request.path_params["name"]
        found = ops.call(caller, "projects.get", name=project)
        versions = ops.call(caller, "models.versions", project=project, name=name, include_archived=True)
        return ui.render(
            request,
            "model.html",
            status=status,
            caller=caller,
            project=found,
            name=name,
            versions=versions,
            may_promote=ops.may(caller, Action.WRITE, project),
            error=error,
            json_twin=ops.path("models.versions", project=project, name=name),
        )

    def promote(request: Request, caller: Caller) -> Response:
        project, name = request.path_params["project"], request.path_params["name"]
        form: dict[str, str] = request.state.form
        version, alias = form.get("version", "").strip(), form.get("alias", "").strip()
        if not version.isdigit():
            raise InvalidInput(f"version must be a version number, got {version!r}")
        if not alias:
            raise InvalidInput("alias is required: the alias to move onto the version (e.g. production)")
        try:
            ops.call(
                caller,
                "models.promote",
                project=project,
                ref=f"{name}@{version}",
                to=alias,
                model=name,
                reason=form.get("reason") or None,
            )
        except InvalidInput as exc:  # the page again, with what was wrong
            return model(request, caller, error=exc.message, status=exc.status)
        return RedirectResponse(request.url.path.removesuffix("/promote"), status_code=303)

    return [
        Route("/ui/p/{project}/models", ui.page(models)),
        Route("/ui/p/{project}/models/{name}", ui.page(model)),
        Route("/ui/p/{project}/models/{name}/promote", ui.page(promote), methods=["POST"]),
    ]
