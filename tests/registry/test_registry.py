"""The registry through the remote SDK (auth on): versions, references, aliases, access, lifecycle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import keel.models
from keel.artifacts.references import refs_of
from keel.core.errors import Conflict, CorruptObject, InvalidInput, NotFound, PermissionDenied
from keel.core.operations import ByteStream
from keel.models.manifest import MANIFEST_NAME
from keel.sdk import fetch_model, register_model
from keel.testing.auth import AuthWorld


def _register(client: Any, folder: Path, name: str = "churn") -> Any:
    return register_model(folder, name, project="churn", client=client)


def test_versions_are_numbered_and_found_by_every_reference(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    first = _register(admin, package)
    second = _register(admin, package, "churn")
    assert (first.number, second.number) == (1, 2)
    assert first.package_digest == second.package_digest  # same bytes, same identity
    assert first.manifest["flavor"] == "sklearn" and first.size > 0 and first.run_id is None
    assert admin.models.get(project="churn", ref="churn").number == 2
    assert admin.models.get(project="churn", ref="churn@1").id == first.id
    assert admin.models.get(project="churn", ref=first.ref).number == 1
    [listed] = admin.models.ls(project="churn").items
    assert (listed.name, listed.latest_version, listed.versions) == ("churn", 2, 2)
    with pytest.raises(NotFound, match=r"model 'churn' has no version 9"):
        admin.models.get(project="churn", ref="churn@9")
    with pytest.raises(NotFound, match=r"no model named 'ghost'"):
        admin.models.get(project="churn", ref="ghost@1")
    with pytest.raises(InvalidInput, match=r"not a model reference"):
        admin.models.get(project="churn", ref="churn@")


def test_aliases_move_and_roll_back_to_the_previous_holder(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    for _ in range(3):
        _register(admin, package)
    for number in (1, 2, 3):
        admin.models.set_alias(project="churn", name="churn", alias="candidate", version=number)
    assert admin.models.get(project="churn", ref="churn@candidate").number == 3
    assert admin.models.rollback(project="churn", name="churn", alias="candidate").number == 2
    assert admin.models.rollback(project="churn", name="churn", alias="candidate").number == 1
    with pytest.raises(Conflict, match=r"no previous holder"):
        admin.models.rollback(project="churn", name="churn", alias="candidate")
    assert admin.models.ls(project="churn").items[0].aliases == {"candidate": 1}
    actions = [e.action for e in admin.audit.ls(project="churn").items]
    assert actions.count("model.alias") == 3 and actions.count("model.rollback") == 2


def test_bad_aliases_are_refused_and_change_nothing(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    _register(admin, package)
    with pytest.raises(InvalidInput, match=r"alias '3' is a number"):
        admin.models.set_alias(project="churn", name="churn", alias="3", version=1)
    with pytest.raises(InvalidInput, match=r"alias 'a b' is not a valid name"):
        admin.models.set_alias(project="churn", name="churn", alias="a b", version=1)
    with pytest.raises(InvalidInput, match=r"alias 'production' is protected"):
        admin.models.set_alias(project="churn", name="churn", alias="production", version=1)
    with pytest.raises(NotFound, match=r"no version 7"):
        admin.models.set_alias(project="churn", name="churn", alias="candidate", version=7)
    with pytest.raises(Conflict, match=r"no previous holder"):
        admin.models.rollback(project="churn", name="churn", alias="candidate")
    assert admin.models.get(project="churn", ref="churn@1").aliases == []


def test_access_viewers_read_editors_register_admins_promote(world: AuthWorld, package: Path) -> None:
    viewer = world.client(world.user("vera", role="viewer", project="churn"))
    editor = world.client(world.user("eddy", role="editor", project="churn"))
    outsider = world.client(world.user("olga"))
    with pytest.raises(PermissionDenied):
        _register(viewer, package)
    version = _register(editor, package)
    editor.models.set_alias(project="churn", name="churn", alias="candidate", version=1)
    assert viewer.models.get(project="churn", ref="churn@candidate").id == version.id
    with pytest.raises(PermissionDenied):
        viewer.models.set_alias(project="churn", name="churn", alias="staging", version=1)
    with pytest.raises(PermissionDenied):
        editor.models.promote(project="churn", ref="churn@1", to="production", force=True, reason="try")
    with pytest.raises(PermissionDenied):
        editor.models.delete(project="churn", name="churn", version=1)
    with pytest.raises(NotFound):
        outsider.models.get(project="churn", ref="churn@1")


def test_archive_hides_and_delete_releases_the_package(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    _register(admin, package)
    _register(admin, package)
    admin.models.set_alias(project="churn", name="churn", alias="candidate", version=2)
    with pytest.raises(Conflict, match=r"holds alias 'candidate'"):
        admin.models.archive(project="churn", name="churn", version=2)
    admin.models.archive(project="churn", name="churn", version=1)
    assert [v.number for v in admin.models.versions(project="churn", name="churn")] == [2]
    assert len(admin.models.versions(project="churn", name="churn", include_archived=True)) == 2
    with pytest.raises(Conflict, match=r"archived; it cannot be promoted"):
        admin.models.promote(project="churn", ref="churn@1", to="candidate", force=True, reason="x")
    admin.models.archive(project="churn", name="churn", version=1, archived=False)
    deleted = admin.models.delete(project="churn", name="churn", version=1)
    kept = admin.models.get(project="churn", ref="churn@2")
    with world.ctx.store.read() as session:
        assert refs_of(session, deleted.ref) == []  # gc may reclaim what only version 1 held
        assert [r.digest for r in refs_of(session, kept.ref)] == [kept.package_digest]
    with pytest.raises(NotFound):
        admin.models.get(project="churn", ref="churn@1")
    assert "model_version.delete" in [e.action for e in admin.audit.ls(project="churn").items]


def test_tags_and_descriptions(world: AuthWorld, package: Path) -> None:
    admin = world.client(world.admin_token)
    _register(admin, package)
    admin.models.edit(project="churn", name="churn", description="who leaves", tags={"team": "growth"})
    admin.models.edit(project="churn", name="churn", version=1, description="first", tags={"data": "v1"})
    model = admin.models.ls(project="churn").items[0]
    assert (model.description, model.tags) == ("who leaves", {"team": "growth"})
    version = admin.models.get(project="churn", ref="churn@1")
    assert (version.description, version.tags) == ("first", {"data": "v1"})
    with pytest.raises(InvalidInput, match=r"has no tag 'nope'"):
        admin.models.edit(project="churn", name="churn", remove_tags=["nope"], tags={"team": "x"})
    assert admin.models.ls(project="churn").items[0].tags == {"team": "growth"}


def test_bad_packages_are_refused_before_anything_is_recorded(
    world: AuthWorld, package: Path, tmp_path: Path
) -> None:
    admin = world.client(world.admin_token)
    (package / "model.trees.json").write_bytes(b"changed")
    with pytest.raises(CorruptObject, match=r"'model.trees.json' has 7 bytes"):
        _register(admin, package)
    plain = admin.artifacts.upload(project="churn", data=ByteStream([b"not a tree"]))
    with pytest.raises(InvalidInput, match=r"is a file, not a package folder"):
        admin.models.register(project="churn", name="churn", package=plain.digest)
    folder = tmp_path / "liar"
    folder.mkdir()
    (folder / "model.skops").write_bytes(b"x")
    from keel.artifact_service.paths import upload_path

    def put(path: Path) -> str:
        return upload_path(
            path,
            exists=lambda d: admin.artifacts.exists(project="churn", digests=d),
            upload=lambda chunks, tree: admin.artifacts.upload(
                project="churn", data=ByteStream(chunks), tree=tree
            ),
        ).digest

    with pytest.raises(InvalidInput, match=r"has no keel-model.json"):
        admin.models.register(project="churn", name="churn", package=put(folder))
    doc = json.loads((Path(__file__).parent / "manifest.json").read_text())
    (folder / MANIFEST_NAME).write_text(json.dumps(doc))
    with pytest.raises(InvalidInput, match=r"names 'input_example.json', which the package lacks"):
        admin.models.register(project="churn", name="churn", package=put(folder))
    with pytest.raises(NotFound, match=r"no package"):
        admin.models.register(project="churn", name="churn", package="0" * 64)
    assert admin.models.ls(project="churn").items == []


def test_load_by_reference_verifies_every_time(world: AuthWorld, package: Path, fitted: Any) -> None:
    model, X, _ = fitted
    admin = world.client(world.admin_token)
    _register(admin, package)
    admin.models.set_alias(project="churn", name="churn", alias="candidate", version=1)
    loaded = keel.models.load("churn@candidate", project="churn", client=admin)
    assert list(loaded.predict(X.head(5))) == list(model.predict(X.head(5)))
    folder = fetch_model("churn@candidate", project="churn", client=admin)
    data = bytearray((folder / "model.trees.npz").read_bytes())
    data[-1] ^= 1
    (folder / "model.trees.npz").write_bytes(bytes(data))
    with pytest.raises(CorruptObject, match=r"'model.trees.npz' was changed"):
        keel.models.load("churn@candidate", project="churn", client=admin)
    shutil.rmtree(folder)
    assert keel.models.load("churn@1", project="churn", client=admin).manifest.flavor == "sklearn"
