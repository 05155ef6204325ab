"""Object backends come from the ``keel.artifact_backends`` entry points, the built-ins and a third party's alike."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from keel.artifacts import open_artifacts
from keel.artifacts.local import LocalObjectStore
from keel.artifacts.plugins import GROUP, registered
from keel.core.errors import ConfigError, MissingExtra

_THIRD_PARTY = '''
"""A backend another package could ship: vault://NAME keeps objects in a folder named after NAME."""
from pathlib import Path
from keel.artifacts.local import LocalObjectStore

ROOT = Path({root!r})

class VaultStore(LocalObjectStore):
    pass

def open_vault(url, options, name=None):
    return VaultStore(ROOT / url[len("vault://"):])

def not_a_backend(url, options, name=None):
    return "a string"
'''


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[importlib.metadata.EntryPoint]]:
    """Extra entry points of the group, as an installed distribution would declare them."""
    module = f"keel_vault_plugin_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(_THIRD_PARTY.format(root=str(tmp_path / "vaults")))
    monkeypatch.syspath_prepend(str(tmp_path))
    extra = [
        importlib.metadata.EntryPoint("vault", f"{module}:open_vault", GROUP),
        importlib.metadata.EntryPoint("broken", "keel_no_such_package.backend:open", GROUP),
        importlib.metadata.EntryPoint("odd", f"{module}:not_a_backend", GROUP),
    ]
    real = importlib.metadata.entry_points

    def entry_points(**params: str) -> importlib.metadata.EntryPoints:
        found = real(**params)
        if params.get("group") == GROUP:
            return importlib.metadata.EntryPoints([*found, *extra])
        return found

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    registered.cache_clear()
    yield extra
    registered.cache_clear()


def test_the_built_ins_are_registered_as_entry_points() -> None:
    points = registered()
    assert points["file"].value == "keel.artifacts.local:open_local"
    for scheme in ("s3", "gs", "memory"):
        assert points[scheme].value == "keel.artifacts.remote_fs:open_fsspec"


def test_file_and_memory_urls_go_through_their_entry_points(tmp_path: Path) -> None:
    local = open_artifacts(f"file://{tmp_path / 'objects'}")
    assert isinstance(local.backend, LocalObjectStore)
    memory = open_artifacts(f"memory://keel-plugins-{tmp_path.name}")
    assert memory.read_bytes(memory.put_bytes(b"hello")) == b"hello"


def test_a_third_party_backend_is_found_and_imported_only_when_used(
    plugins: list[importlib.metadata.EntryPoint], tmp_path: Path
) -> None:
    module = plugins[0].value.split(":")[0]
    assert module not in sys.modules
    store = open_artifacts("vault://team-a")
    assert module in sys.modules
    assert type(store.backend).__name__ == "VaultStore"
    digest = store.put_bytes(b"kept by a plugin")
    assert (tmp_path / "vaults" / "team-a" / digest[:2] / digest[2:]).read_bytes() == b"kept by a plugin"


def test_plugin_failures_are_named(plugins: list[importlib.metadata.EntryPoint]) -> None:
    with pytest.raises(MissingExtra, match="broken:// URLs") as missing:
        open_artifacts("broken://x")
    assert "install" in (missing.value.hint or "")
    with pytest.raises(ConfigError, match="returned str, not an ObjectBackend"):
        open_artifacts("odd://x")
    with pytest.raises(ConfigError, match=r"no artifact backend serves nosuch:// URLs .*vault://"):
        open_artifacts("nosuch://x")


def test_a_missing_s3fs_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "s3fs", None)  # as if not installed
    with pytest.raises(MissingExtra) as missing:
        open_artifacts("s3://bucket/prefix")
    assert "keel[s3]" in (missing.value.hint or "")


def test_a_local_folder_imports_no_remote_backend(tmp_path: Path) -> None:
    code = (
        "import sys; from keel.artifacts import open_artifacts; "
        f"open_artifacts({str(tmp_path / 'objects')!r}).put_bytes(b'x'); "
        "print(sorted(m for m in ('keel.artifacts.remote_fs', 'fsspec', 's3fs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_options_for_a_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="do not apply"):
        open_artifacts(str(tmp_path), options={"endpoint_url": "http://x"})
    with pytest.raises(ConfigError, match="no artifact store URL"):
        open_artifacts("")
