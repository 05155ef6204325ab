"""What the references around a run name: their project (who may read them) and a readable label.

A run's inputs and its lineage hold typed references (``run:<id>``,
``dataset_version:<id>``, ``artifact:<digest>``). Lineage must not cross
projects: a reference is accepted as an input only if the caller can read
what it names, and a lineage answer shows only what the caller can read (a
hidden thing answers like a missing one, the 404 rule of every operation).
Both questions need each reference's project; :func:`resolve` answers them
in one query per kind, asking each kind's owner (this capability for runs,
the datasets capability for versions, the artifact references for objects).

Kinds owned by capabilities above tracking (a model version, a pipeline run)
register a :data:`Resolver` with :func:`register_kind`; a kind nobody
resolves is shown only to callers who may read every project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.artifact_service.visibility import visible
from keel.artifacts.references import ArtifactRef
from keel.core.refs import parse_ref
from keel.tracking.models import RunArtifactRow, RunRow


@dataclass(frozen=True)
class Named:
    """Who owns what a reference names: its project id (None: no project) and a label for people."""

    project_id: str | None
    label: str


#: ids of one kind -> what each names; ids that name nothing are left out.
Resolver = Callable[[Session, list[str]], dict[str, Named]]
#: Kinds a run may record as its inputs (what tracking can check the caller may read).
INPUT_KINDS: Final = ("dataset_version", "run", "artifact")


def _runs(session: Session, ids: list[str]) -> dict[str, Named]:
    rows = session.execute(select(RunRow.id, RunRow.project_id, RunRow.name).where(RunRow.id.in_(ids)))
    return {rid: Named(pid, name) for rid, pid, name in rows}


def _dataset_versions(session: Session, ids: list[str]) -> dict[str, Named]:
    from keel.datasets.lookup import versions_by_id

    return {
        vid: Named(pid, f"{name}@v{number}")
        for vid, (pid, name, number) in versions_by_id(session, ids).items()
    }


_RESOLVERS: dict[str, Resolver] = {"run": _runs, "dataset_version": _dataset_versions}


def register_kind(kind: str, resolver: Resolver) -> None:
    """Let lineage show (to those who may read them) references of a kind a later capability owns."""
    _RESOLVERS[kind] = resolver


def resolve(session: Session, refs: Iterable[str]) -> dict[str, Named]:
    """What each resolvable reference names (artifacts are answered per project by :func:`readable`)."""
    by_kind: dict[str, list[str]] = {}
    for ref in refs:
        kind, _, ident = ref.partition(":")
        by_kind.setdefault(kind, []).append(ident)
    out: dict[str, Named] = {}
    for kind, ids in by_kind.items():
        resolver = _RESOLVERS.get(kind)
        if resolver is None:
            continue
        for start in range(0, len(ids), 500):
            for ident, named in resolver(session, ids[start : start + 500]).items():
                out[f"{kind}:{ident}"] = named
    return out


def artifact_labels(session: Session, run_id: str, digests: list[str]) -> dict[str, str]:
    """The paths a run stored these objects under (``model/model.skops``), for labels."""
    rows = session.execute(
        select(RunArtifactRow.digest, RunArtifactRow.path).where(
            RunArtifactRow.run_id == run_id, RunArtifactRow.digest.in_(digests)
        )
    )
    return {digest: path for digest, path in rows}


def readable_artifacts(session: Session, digests: list[str], projects: frozenset[str] | None) -> set[str]:
    """Those of ``digests`` some project in ``projects`` references (None: any reference at all)."""
    if not digests:
        return set()
    query = select(ArtifactRef.digest).where(ArtifactRef.digest.in_(digests))
    if projects is not None:
        query = query.where(ArtifactRef.project_id.in_(list(projects)))
    found = {str(d) for d in session.execute(query).scalars()}
    if projects is not None:
        for project_id in projects:  # objects inside a tree the project references
            found |= visible(session, project_id, set(digests) - found)
    return found


def check_kind(text: str) -> str:
    """The reference, if a run may record it as an input; InvalidInput naming the kinds otherwise."""
    from keel.core.errors import InvalidInput

    ref = parse_ref(text)
    if ref.kind not in INPUT_KINDS:
        raise InvalidInput(
            f"a run's input must be a dataset version, a run or an artifact, not {ref.kind!r} ({text})",
            hint="e.g. churn-train@v3, dataset_version:<id>, run:<id>, or a 64-hex artifact digest",
        )
    return str(ref)
