"""Capabilities by entry point: Keel's own register as a plugin's would, load on first use, and a third party's works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keel.client import Client
from keel.client.backends import RemoteBackend
from keel.context import Context
from keel.core.errors import ConfigError, NotFound
from keel.server import create_app
from keel.services import (
    GROUP,
    all_services,
    builtin_capabilities,
    capabilities,
    forget_discovered,
    is_capability,
    load_service,
    preload,
)

ROOT = Path(__file__).resolve().parents[1]

NOTES_PLUGIN = '''
"""A capability that is not Keel's: registered only by its package's entry point."""

from keel.context import Service
from keel.core.errors import NotFound
from keel.core.operations import GLOBAL, Action, operation

NOTES: dict[str, str] = {}


class NoteService(Service):
    """Short notes, kept in memory."""

    name = "notes"

    @operation("PUT", "/api/v1/notes/{key}", action=Action.AUTHENTICATED, project=GLOBAL)
    def put(self, key: str, text: str) -> str:
        """Keep a note under a key."""
        NOTES[key] = text
        return key

    @operation("GET", "/api/v1/notes/{key}", action=Action.AUTHENTICATED, project=GLOBAL)
    def get(self, key: str) -> str:
        """The note under a key."""
        if key not in NOTES:
            raise NotFound(f"no note {key!r}")
        return NOTES[key]
'''


def install_fake_distribution(root: Path, name: str, entry_points: dict[str, str], module: str = "") -> None:
    """What ``pip install`` leaves behind, reduced to what entry points need: a dist-info folder (and a module)."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{lines}\n")
    if module:
        (root / f"{name.replace('-', '_')}.py").write_text(textwrap.dedent(module))


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path for fake installed packages; discovery is forgotten before and after."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    forget_discovered()
    yield root
    forget_discovered()


def test_keels_own_capabilities_come_from_its_installed_entry_points() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    assert dict(builtin_capabilities()) == declared, "the install is stale: run `pip install -e .`"
    assert list(capabilities())[: len(declared)] == list(builtin_capabilities())


def test_every_registered_service_loads_under_its_name() -> None:
    for name in capabilities():
        assert load_service(name).name == name
    assert [s.name for s in all_services()] == list(capabilities())


def test_a_third_party_capability_gets_sdk_calls_and_rest_routes(
    plugin_path: Path, make_keel: Callable[..., Client]
) -> None:
    install_fake_distribution(plugin_path, "keel-notes", {"notes": "keel_notes:NoteService"}, NOTES_PLUGIN)
    assert is_capability("notes") and "notes" in dir(make_keel())
    assert list(capabilities())[-1] == "notes"  # after Keel's own

    local = make_keel()
    assert local.notes.put("k1", text="in-process") == "k1"
    assert local.notes.get("k1") == "in-process"

    app = create_app(Context(local.settings), auth=False)  # the server picks every capability up
    remote = Client(RemoteBackend("http://testserver", http=TestClient(app), retries=0))
    assert remote.notes.put("k2", text="over REST") == "k2"
    assert remote.notes.get("k2") == "over REST" and remote.notes.get("k1") == "in-process"
    with pytest.raises(NotFound, match="no note 'nope'"):
        remote.notes.get("nope")


def test_a_plugin_cannot_silently_replace_a_capability(plugin_path: Path) -> None:
    install_fake_distribution(plugin_path, "evil", {"projects": "evil:ProjectService"})
    with pytest.raises(
        ConfigError, match=r"two packages register the capability 'projects': keel .* and evil"
    ):
        capabilities()


def test_an_unknown_name_is_no_capability(make_keel: Callable[..., Client]) -> None:
    client = make_keel()
    assert not is_capability("nonesuch")
    with pytest.raises(AttributeError, match="nonesuch"):
        client.nonesuch  # noqa: B018
    with pytest.raises(KeyError):
        load_service("nonesuch")


def test_import_keel_and_keel_help_read_no_package_metadata() -> None:
    code = (
        "import sys\n"
        "import keel\n"
        "from keel.cli.main import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "from keel.services import builtin_capabilities, capabilities\n"
        "assert builtin_capabilities.cache_info().currsize == 0, 'discovered at import'\n"
        "assert capabilities.cache_info().currsize == 0, 'discovered at import'\n"
        "client = keel.connect(home='nowhere')\n"
        "client.projects\n"
        "assert builtin_capabilities.cache_info().currsize == 1\n"
        "assert capabilities.cache_info().currsize == 0, 'a built-in name scanned every package'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_preload_imports_the_service_module_in_the_background() -> None:
    code = (
        "import sys\n"
        "from keel.services import preload\n"
        "assert 'keel.datasets.service' not in sys.modules\n"
        "preload('data').join()\n"
        "assert 'keel.datasets.service' in sys.modules and 'sqlalchemy' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_preload_of_an_unknown_service_is_silent_and_the_real_lookup_still_fails(
    capfd: pytest.CaptureFixture[str],
) -> None:
    preload("no-such-service").join()
    assert capfd.readouterr().err == ""  # no thread traceback: the caller's own lookup reports it
    with pytest.raises(KeyError):
        load_service("no-such-service")
