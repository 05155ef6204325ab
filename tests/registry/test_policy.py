"""Per-project policy: protected aliases set by admins, and retention that never archives an aliased version."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.core.errors import InvalidInput, PermissionDenied
from keel.sdk import register_model
from keel.testing.auth import AuthWorld


def _register(client: Any, folder: Path, times: int = 1) -> None:
    for _ in range(times):
        register_model(folder, "churn", project="churn", client=client)


def _active(client: Any) -> list[int]:
    return [v.number for v in client.models.versions(project="churn", name="churn")]


def test_the_default_policy_protects_production_and_keeps_everything(world: AuthWorld) -> None:
    policy = world.client(world.admin_token).models.policy(project="churn")
    assert (policy.protected_aliases, policy.keep_last) == (["production"], None)


def test_protected_aliases_are_per_project(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    editor = world.client(world.user("eddy", role="editor", project="churn"))
    world.project("other")
    other_admin = world.client(world.admin_token)
    _register(admin, package)
    register_model(package, "churn", project="other", client=other_admin)
    policy = admin.models.set_policy(project="churn", protected_aliases=["staging", "production"])
    assert policy.protected_aliases == ["production", "staging"] and policy.updated_by
    with pytest.raises(InvalidInput, match=r"alias 'staging' is protected in project 'churn'"):
        editor.models.set_alias(project="churn", name="churn", alias="staging", version=1)
    with pytest.raises(PermissionDenied):
        editor.models.promote(project="churn", ref="churn@1", to="staging", force=True, reason="x")
    admin.models.promote(project="churn", ref="churn@1", to="staging", force=True, reason="first stage")
    # another project keeps the default: staging is an ordinary alias there
    other_admin.models.set_alias(project="other", name="churn", alias="staging", version=1)
    admin.models.set_policy(project="churn", protected_aliases=[])  # none: production is ordinary now
    editor.models.set_alias(project="churn", name="churn", alias="production", version=1)
    assert "model.policy" in [e.action for e in admin.audit.ls(project="churn").items]


def test_only_admins_set_the_policy_and_bad_values_change_nothing(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    editor = world.client(world.user("eddy", role="editor", project="churn"))
    with pytest.raises(PermissionDenied):
        editor.models.set_policy(project="churn", keep_last=3)
    with pytest.raises(InvalidInput, match=r"alias '7' is a number"):
        admin.models.set_policy(project="churn", protected_aliases=["production", "7"])
    with pytest.raises(
        InvalidInput, match=r"keep_last must be between 1 and 10000 \(0 turns retention off\), not -1"
    ):
        admin.models.set_policy(project="churn", keep_last=-1)
    policy = admin.models.policy(project="churn")
    assert (policy.protected_aliases, policy.keep_last, policy.updated_by) == (["production"], None, None)


def test_retention_archives_old_unaliased_versions_and_never_an_aliased_one(
    world: AuthWorld, package: Path
) -> None:
    admin = world.client(world.admin_token)
    _register(admin, package, times=4)
    admin.models.set_alias(project="churn", name="churn", alias="candidate", version=1)
    assert admin.models.set_policy(project="churn", keep_last=2).keep_last == 2
    assert _active(admin) == [4, 3, 2, 1]  # setting the policy archives nothing by itself
    preview = admin.models.retain(project="churn", dry_run=True)
    assert preview.archived == {"churn": [2]} and preview.dry_run
    assert _active(admin) == [4, 3, 2, 1]
    _register(admin, package)  # version 5: registration applies retention to its model
    assert _active(admin) == [5, 4, 1]  # 1 holds candidate, so it stays however old it is
    assert admin.models.retain(project="churn").archived == {}
    archived = admin.models.versions(project="churn", name="churn", include_archived=True)
    assert [(v.number, v.status) for v in archived if v.status == "archived"] == [
        (3, "archived"),
        (2, "archived"),
    ]
    admin.models.set_policy(project="churn", keep_last=0)  # off
    assert admin.models.policy(project="churn").keep_last is None
    _register(admin, package, times=2)
    assert _active(admin) == [7, 6, 5, 4, 1]
    admin.models.set_policy(project="churn", keep_last=1)
    done = admin.models.retain(project="churn", name="churn")
    assert done.archived == {"churn": [4, 5, 6]} and _active(admin) == [7, 1]
    assert "model.retention" in [e.action for e in admin.audit.ls(project="churn").items]


def test_policy_and_retain_from_the_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any], package: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    for _ in range(3):
        assert keel_cli("model", "register", str(package), "--name", "churn", "-p", "churn").code == 0
    shown = keel_cli("model", "protect", "-p", "churn")
    assert "protected aliases: production" in shown.out
    assert "keep every version" in keel_cli("model", "retention", "-p", "churn").out
    set_ = keel_cli("model", "protect", "production,staging", "-p", "churn", "--json")
    assert json.loads(set_.out)["protected_aliases"] == ["production", "staging"]
    kept = keel_cli("model", "retention", "--keep-last", "1", "-p", "churn")
    assert "keep the newest 1 unaliased versions per model" in kept.out
    preview = keel_cli("model", "retention", "--apply", "--dry-run", "-p", "churn")
    assert preview.code == 0 and "would archive churn@1, 2" in preview.out
    assert "archived churn@1, 2" in keel_cli("model", "retention", "--apply", "-p", "churn").out
    refused = keel_cli("model", "alias", "churn", "3", "staging", "-p", "churn")
    assert refused.code == 2 and "is protected in project 'churn'" in refused.err
    bad = keel_cli("model", "retention", "--keep-last", "-3", "-p", "churn")
    assert bad.code == 2 and "keep_last must be between" in bad.err
    versions = json.loads(keel_cli("model", "ls", "churn", "-p", "churn", "--json").out)
    assert [v["number"] for v in versions] == [3]
