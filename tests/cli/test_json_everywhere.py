"""Every command that produces a result takes ``--json`` (issue 10.9), found by walking the real
command tree, so a new command without it fails here."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from keel.cli.main import app

#: Commands with nothing to print as data: they run a process, tour the product or store a credential.
NO_RESULT = {
    "keel server",  # runs until stopped
    "keel serve",  # runs until stopped
    "keel quickstart",  # a narrated tour, not a result
    "keel login",  # stores a credential; printing it would leak it
    "keel config set",  # writes one setting; `keel config show --json` prints them
    "keel db upgrade",  # migrates; `keel db status --json`-style output is its report line
}
NOT_YET: set[str] = set()  # every command that produces a result has --json


def _leaves(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every leaf command under ``command``, as ``keel noun verb`` (groups load lazily on the way)."""
    if hasattr(command, "list_commands"):
        ctx = type(command).context_class(command, info_name=path.rsplit(" ", 1)[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not getattr(sub, "hidden", False):
                yield from _leaves(sub, f"{path} {name}")
    else:
        yield path, command


def _commands() -> dict[str, Any]:
    return dict(_leaves(typer.main.get_command(app), "keel"))


def test_every_command_with_a_result_has_json() -> None:
    commands = _commands()
    assert len(commands) > 60  # the walk reached the lazily loaded groups
    lacking = {
        path
        for path, cmd in commands.items()
        if not any("--json" in getattr(p, "opts", ()) for p in cmd.params)
    }
    assert lacking - NO_RESULT - NOT_YET == set(), "add --json to these (or say why they print nothing)"


def test_the_exception_lists_name_real_commands() -> None:
    commands = _commands()
    assert (NO_RESULT | NOT_YET) - set(commands) <= {
        "keel serve"
    }  # serve may be registered under another noun


def test_the_new_json_flags_print_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    made = keel_cli("init", "--json")
    assert made.code == 0 and json.loads(made.out)["created"] is True
    assert json.loads(keel_cli("init", "--json").out)["created"] is False  # found, not made again
    assert keel_cli("project", "create", "churn").code == 0
    used = keel_cli("project", "use", "churn", "--json")
    assert used.code == 0 and json.loads(used.out)["project"] == "churn"
    assert json.loads(keel_cli("config", "get", "project", "--json").out)["value"] == "churn"
    assert keel_cli("user", "add", "bob").code == 0
    granted = json.loads(keel_cli("role", "grant", "bob", "viewer", "-p", "churn", "--json").out)
    assert (granted["user"], granted["role"], granted["project"]) == ("bob", "viewer", "churn")
    revoked = keel_cli("role", "revoke", "bob", "-p", "churn", "--json")
    assert revoked.code == 0 and json.loads(revoked.out)["user"] == "bob"
    added = json.loads(keel_cli("remote", "add", "origin", str(tmp_path / "remote"), "--json").out)
    assert added["name"] == "origin"
    assert json.loads(keel_cli("remote", "rm", "origin", "--json").out) == {"removed": "origin"}
    (tmp_path / "f.txt").write_text("hello")
    put = keel_cli("artifacts", "put", "f.txt", "--json")
    assert put.code == 0, put.err
    digest = json.loads(put.out)["digest"]
    got = json.loads(keel_cli("artifacts", "get", digest, "out.txt", "--json").out)
    assert got == {"digest": digest, "dest": "out.txt", "tree": False, "files": 1}
    assert (tmp_path / "out.txt").read_text() == "hello"
    assert json.loads(keel_cli("artifacts", "rm", digest, "--json").out) == {
        "project": "churn",
        "removed": digest,
    }
