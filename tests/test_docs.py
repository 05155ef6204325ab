"""Docs are tested: every command, setting and route is documented, and the references are current."""

from __future__ import annotations

import pytest

from keel.cli import reference


@pytest.mark.parametrize("name", sorted(reference.RENDERERS))
def test_generated_reference_is_current(name: str) -> None:
    path = reference.DOCS / name
    assert path.exists(), f"{path} is missing: run `python -m keel.cli.reference`"
    assert path.read_text(encoding="utf-8") == reference.RENDERERS[name](), (
        f"{path} is stale: run `python -m keel.cli.reference`"
    )


def test_every_command_has_help_with_an_example() -> None:
    for name, command in reference.cli_commands():
        help_text = (command.help or "").strip()
        assert help_text, f"`{name}` has no help"
        assert "Example: keel" in help_text, f"`{name}` help lacks an `Example:` line"
        for param in command.params:
            if param.name != "help" and getattr(param, "param_type_name", "") == "option":
                assert getattr(param, "help", None), f"`{name}` option {param.opts} has no help"


def test_every_route_has_a_summary() -> None:
    for route in reference.rest_routes():
        assert route["summary"], f"{route['method']} {route['path']} has no summary"


def test_every_setting_is_in_the_settings_reference() -> None:
    from keel.core.settings import SETTINGS

    text = (reference.DOCS / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.env}`" in text
