"""The access commands: keel user / role / token / audit (locally, single-user admin mode)
and keel login against a real server with auth on."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.testing.fixtures import ServerProcess, new_workspace


@pytest.fixture
def cli(keel_cli: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    settings = new_workspace(tmp_path / "ws")
    monkeypatch.setenv("KEEL_HOME", str(settings.home))
    return keel_cli


def _deployment(cli: Callable[..., Any], root: Path, name: str) -> None:
    """A registered model at alias live in project 'serving', deployed as ``name``."""
    from sklearn.linear_model import LogisticRegression

    import keel.models

    keel.models.save(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), root / "pkg")
    assert cli("project", "create", "serving").code == 0
    assert cli("model", "register", str(root / "pkg"), "--name", "m", "-p", "serving").code == 0
    assert cli("model", "alias", "m", "1", "live", "-p", "serving").code == 0
    assert cli("deploy", "create", name, "--model", "m@live", "-p", "serving").code == 0


def test_user_role_token_audit_commands(cli: Callable[..., Any], tmp_path: Path) -> None:
    ops = cli("user", "add", "ops", "--admin")
    assert ops.code == 0 and "token (shown once" in ops.out and "keel_" in ops.out
    alice = json.loads(
        cli("user", "add", "alice", "--email", "alice@example.com", "--can-create-projects", "--json").out
    )
    assert alice["user"]["can_create_projects"] and alice["secret"].startswith("keel_")
    assert cli("user", "add", "bob").code == 0
    assert cli("project", "create", "churn").code == 0
    assert cli("role", "grant", "alice", "editor", "--project", "churn").code == 0
    assert cli("role", "grant", "bob", "viewer", "--project", "churn").code == 0
    roles = json.loads(cli("role", "ls", "--project", "churn", "--json").out)
    assert {(r["user"], r["role"]) for r in roles} == {("alice", "editor"), ("bob", "viewer")}

    issued = json.loads(
        cli("token", "create", "--user", "alice", "--name", "laptop", "--expires", "30d", "--json").out
    )
    assert issued["token"]["expires_at"] and issued["secret"].startswith("keel_")
    listed = json.loads(cli("token", "ls", "--user", "alice", "--json").out)
    assert {t["name"] for t in listed} == {"initial", "laptop"}
    assert all("secret" not in t and "token_hash" not in t for t in listed)
    _deployment(cli, tmp_path, "churn-prod")  # a predict token names a deployment that exists
    serving = cli(
        "token",
        "create",
        "--user",
        "bob",
        "--name",
        "web",
        "--scope",
        "predict",
        "--deployment",
        "churn-prod",
    )
    assert serving.code == 0, serving.err
    assert cli("token", "revoke", issued["token"]["id"]).code == 0
    twice = cli("token", "revoke", issued["token"]["id"])
    assert twice.code == 2 and "revoked already" in twice.err

    events = json.loads(cli("audit", "ls", "--project", "churn", "--since", "7d", "--json").out)
    assert [e["action"] for e in events] == ["role.grant", "role.grant"]
    everything = json.loads(cli("audit", "ls", "--json").out)
    assert {"user.add", "token.issue", "token.revoke", "role.grant"} <= {e["action"] for e in everything}
    assert cli("audit", "ls").code == 0
    assert "alice" in cli("user", "ls").out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("role", "grant", "ghost", "viewer", "--project", "churn"), "no user named 'ghost'"),
        (("role", "grant", "bob", "owner", "--project", "churn"), "role"),
        (("role", "grant", "bob", "viewer", "--project", "nosuch"), "no project named 'nosuch'"),
        (("token", "create", "--user", "bob", "--name", "x", "--expires", "someday"), "not a duration"),
        (("token", "revoke", "01ARZ3NDEKTSV4RRFFQ69G5FAV"), "no token"),
        (("user", "edit", "ops", "--no-admin"), "last enabled admin"),
        (("user", "add", "bob"), "exists already"),
        (("audit", "ls", "--since", "last-week"), "since"),
    ],
)
def test_bad_input_is_a_clear_error_that_changes_nothing(
    cli: Callable[..., Any], args: tuple[str, ...], message: str
) -> None:
    cli("user", "add", "ops", "--admin")
    cli("user", "add", "bob")
    cli("project", "create", "churn")
    before = cli("audit", "ls", "--json").out
    result = cli(*args)
    assert result.code == 2, result.out
    assert result.err.startswith("keel: error:") and message in result.err
    assert cli("audit", "ls", "--json").out == before


def test_login_stores_a_user_only_token_the_cli_then_uses(
    keel_server: ServerProcess,
    keel_cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creds = tmp_path / "cfg" / "credentials.toml"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEEL_CREDENTIALS_FILE", str(creds))
    bad = keel_cli("login", keel_server.url, "--token", "keel_" + "x" * 43)
    assert bad.code == 2 and "unknown token" in bad.err and not creds.exists()
    good = keel_cli("login", keel_server.url, "--token", keel_server.token)
    assert good.code == 0, good.err
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert stat.S_IMODE(creds.parent.stat().st_mode) == 0o700
    assert keel_server.token in creds.read_text()
    monkeypatch.setenv("KEEL_SERVER_URL", keel_server.url)  # no KEEL_TOKEN: the stored one is used
    me = keel_cli("user", "whoami", "--json")
    assert me.code == 0 and json.loads(me.out)["name"] == "admin"
    monkeypatch.setenv("KEEL_TOKEN", "keel_" + "y" * 43)  # KEEL_TOKEN wins over the file
    assert keel_cli("user", "whoami").code == 2
    monkeypatch.delenv("KEEL_TOKEN")
    monkeypatch.delenv("KEEL_CREDENTIALS_FILE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    anonymous = keel_cli("project", "ls")
    assert anonymous.code == 2 and "signed-in" in anonymous.err
