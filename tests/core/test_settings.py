"""Settings: declared once; precedence flag > env > config.toml > default; workspace discovery."""

from __future__ import annotations

from pathlib import Path
from typing import get_type_hints

import pytest

from keel.core.errors import ConfigError, WorkspaceNotFound
from keel.core.settings import (
    BY_NAME,
    SETTINGS,
    Setting,
    Settings,
    SettingValues,
    find_workspace,
    load_settings,
)
from keel.core.workspace import create_workspace, require_workspace, set_config_value


def test_every_setting_is_declared_with_help_and_env() -> None:
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    for s in SETTINGS:
        assert s.help.strip() and s.env == "KEEL_" + s.name.upper()


def test_precedence_flag_env_config_default(tmp_path: Path) -> None:
    home, _ = create_workspace(tmp_path)
    (home / "config.toml").write_text('server_port = 6000\nproject = "from-config"\ndebug = true\n')
    env = {"KEEL_SERVER_PORT": "7000"}
    s = load_settings({"project": "from-flag"}, env=env, cwd=tmp_path)
    assert s.server_port == 7000 and s.sources["server_port"] == "env"
    assert s.project == "from-flag" and s.sources["project"] == "flag"
    assert s.debug is True and s.sources["debug"] == "config"
    assert s.server_host == "127.0.0.1" and s.sources["server_host"] == "default"
    assert s.db_url == f"sqlite:///{home / 'keel.db'}"


def test_workspace_found_by_walking_up(tmp_path: Path) -> None:
    home, created = create_workspace(tmp_path)
    assert created and (home / "objects").is_dir() and (home / "cache").is_dir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_workspace(deep) == home
    s = load_settings(env={}, cwd=deep)
    assert s.home == str(home) and s.sources["home"] == "workspace"
    assert create_workspace(tmp_path) == (home, False)


def test_keel_home_overrides_discovery(tmp_path: Path) -> None:
    other, _ = create_workspace(tmp_path / "other")
    create_workspace(tmp_path / "here")
    s = load_settings(env={"KEEL_HOME": str(other)}, cwd=tmp_path / "here")
    assert s.home == str(other) and s.sources["home"] == "env"


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.home is None and s.db_url is None
    with pytest.raises(WorkspaceNotFound, match="run `keel init`"):
        require_workspace(s)


def test_bad_values_name_the_setting_and_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"server_port from \$KEEL_SERVER_PORT .*'abc'"):
        load_settings(env={"KEEL_SERVER_PORT": "abc"}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="debug"):
        load_settings({"debug": "maybe"}, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings({"colour": "red"}, env={}, cwd=tmp_path)
    home, _ = create_workspace(tmp_path)
    (home / "config.toml").write_text("surprise = 1\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings(env={}, cwd=tmp_path)
    (home / "config.toml").write_text("this is = = not toml\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, cwd=tmp_path)


def test_set_config_value_validates_before_writing(tmp_path: Path) -> None:
    home, _ = create_workspace(tmp_path)
    set_config_value(home, "server_port", "5050")
    assert load_settings(env={}, cwd=tmp_path).server_port == 5050
    before = (home / "config.toml").read_text()
    with pytest.raises(ConfigError):
        set_config_value(home, "server_port", "lots")
    with pytest.raises(ConfigError, match="unknown setting"):
        set_config_value(home, "nope", "1")
    assert (home / "config.toml").read_text() == before


def test_secrets_are_masked_in_show(tmp_path: Path) -> None:
    s = load_settings({"token": "sekrit"}, env={}, cwd=tmp_path)
    rows = {r["name"]: r for r in s.show()}
    assert rows["token"]["value"] == "****"
    assert {r["name"]: r for r in s.show(reveal=True)}["token"]["value"] == "sekrit"


def _expected_type(record: Setting) -> object:
    return record.type | None if record.default is None else record.type


def test_every_setting_has_a_typed_attribute() -> None:
    hints = get_type_hints(SettingValues)
    for record in SETTINGS:
        line = f"{record.name}: {record.type.__name__}{' | None' if record.default is None else ''}"
        assert record.name in hints, f"add `{line}` to SettingValues in keel/core/settings.py"
        assert hints[record.name] == _expected_type(record), f"SettingValues should say `{line}`"
    assert set(hints) <= set(BY_NAME), f"typed but no record: {sorted(set(hints) - set(BY_NAME))}"


def test_no_setting_shadows_a_member_of_settings() -> None:
    members = {name for name in dir(Settings) if not name.startswith("_")} | {
        "values",
        "sources",
        "config_tables",
    }
    assert not members & set(BY_NAME)


def test_attributes_are_the_resolved_values(tmp_path: Path) -> None:
    s = load_settings({"server_port": "6001"}, env={"KEEL_DEBUG": "yes"}, cwd=tmp_path)
    for record in SETTINGS:
        assert getattr(s, record.name) == s.values[record.name]
    assert s.server_port == 6001 and s.debug is True and s.token is None
    with pytest.raises(AttributeError):
        s.no_such_setting  # type: ignore[attr-defined]  # noqa: B018
