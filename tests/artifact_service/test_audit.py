"""Artifact deletions are audit events: `rm` of a reference and every gc that ran."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from keel.core.errors import NotFound


def test_remove_and_gc_are_audited(make_keel: Callable[..., Any]) -> None:
    c = make_keel()
    c.projects.create(name="churn")
    info = c.artifacts.upload(project="churn", data=[b"model bytes"])
    c.artifacts.remove(project="churn", digest=info.digest)
    with pytest.raises(NotFound):
        c.artifacts.remove(project="churn", digest=info.digest)  # refused: no second event
    c.artifacts.gc(grace_s=0, dry_run=True)  # a dry run deletes nothing and records nothing
    report = c.artifacts.gc(grace_s=0)
    assert report.deleted == 1

    events = c.audit.ls().items
    removes = [e for e in events if e.action == "artifact.remove"]
    gcs = [e for e in events if e.action == "artifact.gc"]
    assert len(removes) == 1 and removes[0].target == f"artifact:{info.digest}"
    assert len(gcs) == 1 and gcs[0].details["deleted"] == 1
