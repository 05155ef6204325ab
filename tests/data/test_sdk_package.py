"""The SDK package ``keel.data`` and the capability ``keel.datasets`` have separate homes.

``keel.data`` is the public namespace itself (no forwarding by ``__getattr__``);
nothing in ``keel.datasets`` imports it back; the staging side is chosen once
per client, and a server's staging folder is a declared setting.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest

import keel
from keel.client import Client
from keel.client.backends import InProcessBackend, RemoteBackend
from keel.context import Context
from keel.core.settings import load_settings
from keel.data.staging import LocalStaging, RemoteStaging, staging_for
from keel.data.versioning import quick_head

DATASETS = Path(keel.__file__).parent / "datasets"


def test_keel_data_is_the_sdk_package() -> None:
    import keel.data

    assert keel.data.__name__ == "keel.data"
    assert keel.data.add.__module__ == "keel.data.versioning"
    assert keel.data.checkout.__module__ == "keel.data.restore"
    assert not hasattr(keel.data, "__getattr__"), "keel.data forwards nothing by name"


def test_the_capability_never_imports_the_sdk_or_a_client() -> None:
    upward = ("keel.data.", "keel.client", "keel.sdk", "keel.cli", "keel.server")
    for path in sorted(DATASETS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                assert name != "keel.data" and not name.startswith(upward), f"{path.name} imports {name}"


def test_local_staging_is_the_workspace_store_chosen_once(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    staging = staging_for(client)
    assert isinstance(staging, LocalStaging)
    assert staging_for(client) is staging
    assert isinstance(client.backend, InProcessBackend)
    assert staging.store is client.backend.ctx.artifacts
    assert staging.upload("any", ["0" * 64]) == 0  # nothing crosses: the services share the store


def test_remote_staging_lives_in_the_staging_dir_setting(tmp_path: Path) -> None:
    settings = load_settings(
        {"server_url": "http://127.0.0.1:9", "staging_dir": str(tmp_path / "stage")}, env={}, cwd=tmp_path
    )
    client = Client(RemoteBackend("http://127.0.0.1:9"), settings)
    staging = staging_for(client)
    assert isinstance(staging, RemoteStaging)
    assert staging.cache_folder == tmp_path / "stage" / "data"
    assert Path(staging.store.url.removeprefix("file://")) == tmp_path / "stage" / "objects"


def test_staging_dir_comes_from_the_environment_like_every_setting(tmp_path: Path) -> None:
    settings = load_settings({}, env={"KEEL_STAGING_DIR": str(tmp_path / "s")}, cwd=tmp_path)
    assert settings.staging_dir == str(tmp_path / "s")
    assert settings.sources["staging_dir"] == "env"


class _RolesLike:
    """An authorizer that narrows what a caller sees, as the server's role authorizer does."""

    def authorize(self, caller: object, action: object, project: str | None) -> None:
        return None

    def visible_projects(self, caller: object) -> frozenset[str] | None:
        return frozenset()


def test_quick_head_asks_the_backend_and_stays_silent_when_rows_are_filtered(
    make_keel: Callable[..., Client],
) -> None:
    client = make_keel()
    assert isinstance(client.backend, InProcessBackend)
    assert client.backend.sees_every_row()
    narrowed = Client(InProcessBackend(Context(client.backend.ctx.settings, _RolesLike())), client.settings)
    assert isinstance(narrowed.backend, InProcessBackend)
    assert not narrowed.backend.sees_every_row()
    assert quick_head(narrowed, "any", "thing") is None


def test_quick_head_is_none_for_a_server_client(tmp_path: Path) -> None:
    settings = load_settings({"server_url": "http://127.0.0.1:9"}, env={}, cwd=tmp_path)
    assert quick_head(Client(RemoteBackend("http://127.0.0.1:9"), settings), "p", "d") is None


def test_a_misspelt_staging_setting_is_refused(tmp_path: Path) -> None:
    from keel.core.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({"staging_folder": str(tmp_path)}, env={}, cwd=tmp_path)


def test_an_sdk_call_named_like_a_service_operation_returns_what_it_returns() -> None:
    """``keel.data.ls`` and ``client.data.ls`` (and log, tag, rm, diff, lineage) give the same type."""
    import typing

    import keel.data
    from keel.core.operations import operations_of
    from keel.datasets.service import DataService

    ops = operations_of(DataService)
    shared = sorted(set(keel.data.__all__) & set(ops))
    assert shared == ["diff", "lineage", "log", "ls", "rm", "tag"]
    for name in shared:
        sdk = typing.get_type_hints(getattr(keel.data, name))["return"]
        service = typing.get_type_hints(ops[name].func)["return"]
        assert sdk == service, f"keel.data.{name} returns {sdk}, client.data.{name} returns {service}"
    assert "get" not in ops, "the SDK's get (a version handle) and the service's dataset read differ"
    assert "tag" in typing.get_type_hints(keel.data.tag) and "tag" in typing.get_type_hints(ops["tag"].func)


def test_ls_and_log_page_like_the_service(make_keel: Callable[..., Client], tmp_path: Path) -> None:
    import keel.data
    from keel.core.errors import InvalidInput

    client = make_keel()
    client.projects.create(name="p")
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text(name)
        keel.data.add(tmp_path / f"{name}.txt", name, project="p", client=client)
    (tmp_path / "a.txt").write_text("a2")
    keel.data.add(tmp_path / "a.txt", "a", project="p", client=client)
    whole = keel.data.ls(project="p", client=client)
    assert [d.name for d in whole.items] == ["a", "b", "c"] and whole.next_token is None
    first = keel.data.ls(project="p", limit=2, client=client)
    assert [d.name for d in first.items] == ["a", "b"] and first.next_token
    rest = keel.data.ls(project="p", page_token=first.next_token, client=client)
    assert [d.name for d in rest.items] == ["c"]
    assert [v.number for v in keel.data.log("a", project="p", client=client).items] == [2, 1]
    assert [v.number for v in keel.data.log("a", project="p", limit=1, client=client).items] == [2]
    with pytest.raises(InvalidInput, match="limit"):
        keel.data.ls(project="p", limit=0, client=client)
    with pytest.raises(InvalidInput):
        keel.data.log("a", project="p", page_token="not-a-token", client=client)
