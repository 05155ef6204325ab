"""A run's lineage: what it used (inputs the caller may read), and the graph around it as the caller may see it.

Lineage must not cross projects. An input is recorded only when the caller
can read what it names (a dataset version, a run, an artifact; anything it
cannot read answers "not found", like anything that does not exist), and a
lineage answer keeps only the edges whose both ends the caller can read,
walking no further than what it can read. Each reference comes with a label
(``churn-train@v3``, a run's name, an artifact's path) so a person can read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from annotated_types import Len
from pydantic import BaseModel
from sqlalchemy.orm import Session

from keel.core.constraints import IdOrPrefix, Relation, RunInput
from keel.core.errors import InvalidInput, NotFound
from keel.core.operations import GLOBAL, Action, operation
from keel.lineage import Edge, add_edges, downstream, upstream
from keel.tracking.guard import RunGuard
from keel.tracking.models import RunRow
from keel.tracking.resolve_refs import (
    artifact_labels,
    check_kind,
    readable_artifacts,
    resolve,
)
from keel.tracking.values import check_key

#: Most references one call may record.
MAX_INPUTS = 1000


class RunLineage(BaseModel):
    """What a run used (upstream) and what came from it (downstream), with a label per reference."""

    run: str
    upstream: list[Edge]
    downstream: list[Edge]
    labels: dict[str, str] = {}


def _digest_or_ref(text: str) -> str:
    text = text.strip()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return f"artifact:{text}"
    return check_kind(text)


def _reachable(start: str, edges: list[Edge], readable: set[str], *, forward: bool) -> list[Edge]:
    """The edges reached from ``start`` through readable references only, in the walk's order."""
    reached = {start}
    kept: list[Edge] = []
    changed = True
    remaining = list(edges)
    while changed:
        changed = False
        rest = []
        for edge in remaining:
            near, far = (edge.src, edge.dst) if forward else (edge.dst, edge.src)
            if near in reached and far in readable:
                kept.append(edge)
                if far not in reached:
                    reached.add(far)
                    changed = True
            else:
                rest.append(edge)
        remaining = rest
    return kept


class RunLineageOps(RunGuard):
    """The lineage operations of the runs service."""

    @operation("POST", "/api/v1/runs/{run_id}/inputs", action=Action.AUTHENTICATED, project=GLOBAL)
    def use(
        self,
        run_id: IdOrPrefix,
        refs: Annotated[list[RunInput], Len(1, MAX_INPUTS)],
        relation: Relation = "used",
    ) -> list[Edge]:
        """Record what a run used: a dataset address (``name@v2``), ``dataset_version:<id>``, ``run:<id>``, or an artifact digest.

        Addresses resolve in the run's project (``other/name@golden`` names
        another one). Every input must exist and be readable by the caller;
        anything else is refused as not found, and nothing is recorded.
        """
        check_key(relation, "relation")
        if not refs:
            raise InvalidInput("refs must name at least one input")
        if len(refs) > MAX_INPUTS:
            raise InvalidInput(f"at most {MAX_INPUTS} inputs per call, got {len(refs)}")
        with self.store.write() as session:
            row = self._run(session, run_id, Action.WRITE)
            targets = [self._input_ref(session, row, r) for r in refs]
            self._check_readable(session, row, targets)
            edges = [(f"run:{row.id}", relation, t) for t in dict.fromkeys(targets)]
            add_edges(session, edges)
        return [Edge(src=s, relation=r, dst=d) for s, r, d in edges]

    def _input_ref(self, session: Session, run: RunRow, text: str) -> str:
        """A run input as a reference; a dataset address resolves to its version, in the run's project
        unless it names another one (which the caller must be able to read)."""
        text = text.strip()
        if "@" not in text or ":" in text:
            return _digest_or_ref(text)
        from keel.datasets.address_syntax import split_address
        from keel.datasets.lookup import find_dataset, find_version

        address = split_address(text)
        project = address.project or run.project_name
        dataset = find_dataset(session, project, address.name)
        if dataset.project_id != run.project_id:
            self.ctx.authorize_in_project(
                dataset.project_id, Action.READ, f"dataset {project}/{address.name}"
            )
        return f"dataset_version:{find_version(session, dataset, address.selector).id}"

    def _check_readable(self, session: Session, run: RunRow, refs: Iterable[str]) -> None:
        """NotFound for the first reference that names nothing, or something the caller may not read."""
        refs = list(refs)
        digests = [r.split(":", 1)[1] for r in refs if r.startswith("artifact:")]
        if digests:
            projects = self.ctx.visible_projects()
            if projects is not None:
                projects = projects | {run.project_id}
            missing = set(digests) - readable_artifacts(session, digests, projects)
            if missing:
                raise NotFound(
                    f"no artifact {sorted(missing)[0]} readable in this run's projects",
                    hint="store it first (keel artifacts put, or run.log_artifact)",
                )
        named = resolve(session, [r for r in refs if not r.startswith("artifact:")])
        for ref in refs:
            if ref.startswith("artifact:"):
                continue
            kind, _, ident = ref.partition(":")
            what = kind.replace("_", " ")
            if ref not in named:
                raise NotFound(f"no {what} {ident!r}", hint="check the id, e.g. with `keel data log NAME`")
            project_id = named[ref].project_id
            if project_id is not None and project_id != run.project_id:
                self.ctx.authorize_in_project(project_id, Action.READ, f"{what} {ident}")

    @operation("GET", "/api/v1/runs/{run_id}/lineage", action=Action.AUTHENTICATED, project=GLOBAL)
    def lineage(self, run_id: IdOrPrefix) -> RunLineage:
        """What the run used, transitively, and what was made from it: only what the caller may read."""
        with self.store.read() as session:
            row = self._run(session, run_id, Action.READ)
            ref = f"run:{row.id}"
            up, down = upstream(session, ref), downstream(session, ref)
            readable, labels = self._readable(
                session, row, {e.src for e in up + down} | {e.dst for e in up + down}
            )
        readable.add(ref)
        labels[ref] = row.name
        up = _reachable(ref, up, readable, forward=True)
        down = _reachable(ref, down, readable, forward=False)
        shown = {ref} | {e.src for e in up + down} | {e.dst for e in up + down}
        return RunLineage(
            run=ref, upstream=up, downstream=down, labels={k: v for k, v in labels.items() if k in shown}
        )

    def _readable(self, session: Session, run: RunRow, refs: set[str]) -> tuple[set[str], dict[str, str]]:
        """Which of ``refs`` the caller may read, and labels for them."""
        projects = self.ctx.visible_projects()
        named = resolve(session, refs)
        digests = sorted(r.split(":", 1)[1] for r in refs if r.startswith("artifact:"))
        seen_digests = readable_artifacts(session, digests, projects)
        readable: set[str] = set()
        labels: dict[str, str] = {}
        for ref in refs:
            if ref.startswith("artifact:"):
                if ref.split(":", 1)[1] in seen_digests:
                    readable.add(ref)
            elif ref in named:
                if projects is None or named[ref].project_id in projects:
                    readable.add(ref)
                    labels[ref] = named[ref].label
            elif projects is None:  # a kind no capability resolves: only for who may read everything
                readable.add(ref)
        for digest, path in artifact_labels(session, run.id, digests).items():
            labels[f"artifact:{digest}"] = path
        return readable, labels
