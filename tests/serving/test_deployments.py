"""Deployments through the remote SDK (auth on): create, list, show, edit, remove, and their bad inputs."""

from __future__ import annotations

import pytest

from keel.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from keel.testing.auth import AuthWorld


def test_a_deployment_follows_an_alias_with_canary_and_shadow(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    made = admin.deployments.create(
        project="churn", name="iris-prod", model="iris@live", canary="iris@candidate:25%", shadow="iris@1"
    )
    assert (made.model, made.target, made.version) == ("iris", "live", 1)
    assert (made.canary, made.canary_percent, made.canary_version) == ("candidate", 25, 2)
    assert (made.shadow, made.shadow_version, made.allow_unsafe_pickle) == ("1", 1, False)
    [listed] = admin.deployments.ls(project="churn")
    assert listed.name == "iris-prod"
    admin.models.set_alias(project="churn", name="iris", alias="live", version=2)
    assert admin.deployments.get(project="churn", name="iris-prod").version == 2  # follows the alias
    edited = admin.deployments.edit(project="churn", name="iris-prod", canary_percent=50, remove_shadow=True)
    assert (edited.canary_percent, edited.shadow) == (50, None)
    removed = admin.deployments.delete(project="churn", name="iris-prod")
    assert removed.name == "iris-prod"
    assert admin.deployments.ls(project="churn") == []
    actions = [e.action for e in admin.audit.ls(project="churn").items]
    assert {"deployment.create", "deployment.edit", "deployment.delete"} <= set(actions)


def test_bad_deployments_are_refused_naming_what_is_wrong(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    with pytest.raises(InvalidInput, match=r"canary share must be from 0 to 100"):
        admin.deployments.create(project="churn", name="d", model="iris@live", canary="iris@2:150%")
    with pytest.raises(InvalidInput, match=r"canary_percent is -1"):
        admin.deployments.create(
            project="churn", name="d", model="iris@live", canary="iris@2", canary_percent=-1
        )
    with pytest.raises(InvalidInput, match=r"model 'iris@staging' holds no version now"):
        admin.deployments.create(project="churn", name="d", model="iris@staging")
    with pytest.raises(InvalidInput, match=r"names no alias or version"):
        admin.deployments.create(project="churn", name="d", model="iris")
    with pytest.raises(InvalidInput, match=r"is another model"):
        admin.deployments.create(project="churn", name="d", model="iris@live", shadow="other@1")
    with pytest.raises(NotFound, match=r"no model named 'ghost'"):
        admin.deployments.create(project="churn", name="d", model="ghost@production")
    assert admin.deployments.ls(project="churn") == []  # nothing was made
    admin.deployments.create(project="churn", name="d", model="iris@live")
    with pytest.raises(AlreadyExists, match=r"'d' already exists"):
        admin.deployments.create(project="churn", name="d", model="iris@1")
    with pytest.raises(NotFound, match=r"no deployment named 'ghost'"):
        admin.deployments.get(project="churn", name="ghost")
    with pytest.raises(InvalidInput, match=r"nothing to change"):
        admin.deployments.edit(project="churn", name="d")


def test_viewers_read_deployments_but_may_not_create_them(world: AuthWorld) -> None:
    viewer = world.client(world.user("val", role="viewer", project="churn"))
    with pytest.raises(PermissionDenied, match=r"viewer"):
        viewer.deployments.create(project="churn", name="d", model="iris@live")
    world.client(world.admin_token).deployments.create(project="churn", name="d", model="iris@live")
    assert [d.name for d in viewer.deployments.ls(project="churn")] == ["d"]


def test_a_predict_token_names_a_deployment_that_exists(world: AuthWorld) -> None:
    admin = world.client(world.admin_token)
    before = [t.id for t in admin.tokens.ls(user="root")]
    with pytest.raises(NotFound, match="no deployment named 'nope'"):
        admin.tokens.create(user="root", scope="predict", deployment="nope")
    assert [t.id for t in admin.tokens.ls(user="root")] == before  # nothing issued
    admin.deployments.create(project="churn", name="iris-prod", model="iris@live")
    issued = admin.tokens.create(user="root", scope="predict", deployment="iris-prod")
    assert issued.token.deployment == "iris-prod" and issued.secret
