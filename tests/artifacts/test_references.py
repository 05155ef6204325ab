"""References: (digest, owner) rows written in the caller's transaction; the gc roots."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect

from keel.artifacts import add_refs, referenced_digests, refs_of, remove_refs
from keel.artifacts.references import owners_of
from keel.core.errors import InvalidInput
from keel.store.engine import Store

A, B = "a" * 64, "b" * 64


@pytest.fixture
def db(keel_workspace: Any) -> Store:
    return Store(keel_workspace.db_url, check_schema=False)


def test_add_is_idempotent_and_remove_counts(db: Store) -> None:
    with db.write() as session:
        add_refs(session, [(A, "run:r1"), (A, "run:r1"), (B, "run:r1"), (A, "project:p1")])
    with db.write() as session:
        add_refs(session, [(A, "run:r1")])
    with db.read() as session:
        assert [r.digest for r in refs_of(session, "run:r1")] == [A, B]
        assert referenced_digests(session) == {A, B}
        assert owners_of(session, [A, B]) == {A: {"run:r1", "project:p1"}, B: {"run:r1"}}
    with db.write() as session:
        assert remove_refs(session, "run:r1", [B]) == 1
        assert remove_refs(session, "run:r1", []) == 0
        assert remove_refs(session, "run:r1") == 1
    with db.read() as session:
        assert referenced_digests(session) == {A}


def test_refs_roll_back_with_the_callers_transaction(db: Store) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        add_refs(session, [(A, "run:r2")])
        raise RuntimeError("the capability's own write failed")
    with db.read() as session:
        assert refs_of(session, "run:r2") == []


@pytest.mark.parametrize(
    ("digest", "owner", "message"),
    [
        ("xyz", "run:r1", "not a BLAKE3 digest"),
        (A, "nonsense", "not a reference"),
        (A, "car:1", "unknown reference kind"),
    ],
)
def test_bad_refs_change_nothing(db: Store, digest: str, owner: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message), db.write() as session:
        add_refs(session, [(B, "run:ok"), (digest, owner)])
    with db.read() as session:
        assert referenced_digests(session) == set()


def test_table_matches_the_migration(db: Store) -> None:
    inspector = inspect(db.engine)
    columns = {c["name"]: c["nullable"] for c in inspector.get_columns("artifact_refs")}
    assert columns == {"digest": False, "owner": False, "created_at": False, "project_id": True}
    assert inspector.get_pk_constraint("artifact_refs")["name"] == "pk_artifact_refs"
    assert sorted(i["name"] for i in inspector.get_indexes("artifact_refs")) == [
        "ix_artifact_refs_owner",
        "ix_artifact_refs_project_id",
    ]


def test_project_id_is_kept_and_filled_in_but_never_overwritten(db: Store) -> None:
    from keel.artifacts.references import ArtifactRef

    with db.write() as session:
        add_refs(session, [(A, "run:r1")])  # optional: capabilities that do not pass it yet
        add_refs(session, [(B, "run:r1")], project_id="p1")
    with db.write() as session:
        add_refs(session, [(A, "run:r1"), (B, "run:r1")], project_id="p2")
    with db.read() as session:
        rows = {r.digest: r.project_id for r in session.query(ArtifactRef)}
    assert rows == {A: "p2", B: "p1"}


def test_tree_contents_are_not_gc_roots(db: Store) -> None:
    from keel.artifacts.references import forget_objects, record_tree

    tree = "c" * 64
    with db.write() as session:
        add_refs(session, [(tree, "project:p1")], project_id="p1")
        record_tree(session, tree, [A, B])
    with db.read() as session:
        assert referenced_digests(session) == {tree}
        assert owners_of(session, [A]) == {A: {f"artifact:{tree}"}}
    from datetime import timedelta

    from keel.core.timeutil import utcnow

    with db.write() as session:
        assert forget_objects(session, [tree], before=utcnow() - timedelta(hours=1)) == 0  # rows too new
        assert forget_objects(session, [tree], before=utcnow() + timedelta(seconds=1)) == 2
    with db.read() as session:
        # the tree's contents went; the project's reference is a root and gc never deletes what roots reach
        assert owners_of(session, [A, B, tree]) == {A: set(), B: set(), tree: {"project:p1"}}
