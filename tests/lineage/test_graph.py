"""Lineage edges and the walks both ways."""

from __future__ import annotations

from typing import Any

import pytest

from keel.core.errors import InvalidInput
from keel.lineage import add_edges, downstream, upstream
from keel.store.engine import Store

DS = "dataset_version:D1"
RUN = "run:R1"
MODEL = "model_version:M1"
DEP = "deployment:P1"


def test_walks_upstream_and_downstream(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url)
    with store.write() as session:
        add_edges(session, [(RUN, "used", DS), (MODEL, "produced_by", RUN), (DEP, "serves", MODEL)])
        add_edges(session, [(RUN, "used", DS)])  # a duplicate is ignored
    with store.read() as session:
        up = upstream(session, DEP)
        down = downstream(session, DS)
        shallow = upstream(session, DEP, depth=1)
    assert [(e.src, e.dst) for e in up] == [(DEP, MODEL), (MODEL, RUN), (RUN, DS)]
    assert {e.src for e in down} == {RUN, MODEL, DEP}
    assert [e.dst for e in shallow] == [MODEL]
    store.dispose()


def test_bad_references_change_nothing(keel_workspace: Any) -> None:
    store = Store(keel_workspace.db_url)
    with pytest.raises(InvalidInput, match="unknown reference kind"), store.write() as session:
        add_edges(session, [(RUN, "used", DS), ("spaceship:1", "used", DS)])
    with store.read() as session:
        assert upstream(session, RUN) == []
    store.dispose()
