"""Recording a batch scoring: the output dataset version was predicted by a model version.

``keel model predict`` writes its predictions as a dataset version whose
parent (``derived_from``) is the scored input; this adds the other half of
its lineage, ``dataset_version:<output> --predicted_by--> model_version:<id>``,
after checking both exist in the project (asked of their owners' lookups,
never their tables), so *which model made these scores* is one query away.
"""

from __future__ import annotations

from keel.context import Context
from keel.core.errors import InvalidInput, NotFound
from keel.core.refs import parse_ref
from keel.datasets.lookup import versions_by_id
from keel.lineage import add_edges
from keel.projects.service import find_project
from keel.registry.lookup import versions_named

RELATION = "predicted_by"


def record_scoring(ctx: Context, project: str, output: str, model_version: str) -> tuple[str, str, str]:
    """Add the edge output --predicted_by--> model_version; returns it. InvalidInput/NotFound naming the ref."""
    out, model = parse_ref(output), parse_ref(model_version)
    if out.kind != "dataset_version":
        raise InvalidInput(f"output {output!r} is not a dataset_version:<id> reference")
    if model.kind != "model_version":
        raise InvalidInput(f"model_version {model_version!r} is not a model_version:<id> reference")
    with ctx.store.write() as session:
        project_id = find_project(session, project).id
        dataset = versions_by_id(session, [out.id]).get(out.id)
        if dataset is None or dataset[0] != project_id:
            raise NotFound(f"no dataset version {out.id!r} in project {project!r}")
        named = versions_named(session, [model.id]).get(model.id)
        if named is None or named.project_id != project_id:
            raise NotFound(f"no model version {model.id!r} in project {project!r}")
        edge = (str(out), RELATION, str(model))
        add_edges(session, [edge])
    return edge
