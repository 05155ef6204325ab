"""The CLI at 80 columns prints the shortest unique id prefix and takes it back (issue 10.9),
and says when a metric or an id names nothing (issue 10.11)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import keel


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]) -> list[str]:
    monkeypatch.chdir(tmp_path)
    assert keel_cli("init").code == 0
    assert keel_cli("project", "create", "churn").code == 0
    keel.init(project="churn", home=tmp_path / ".keel")
    ids = []
    for depth in (3, 6, 9):
        with keel.start_run(name=f"d{depth}", system_metrics=False, capture_env=False) as run:
            run.log_metrics({"accuracy": 0.8123456, "roc_auc": 0.9012345}, step=0)
        ids.append(run.id)
    return ids


def _shared(ids: list[str]) -> str:
    """The longest prefix every id shares (character by character)."""
    n = 0
    while all(len(i) > n and i[n] == ids[0][n] for i in ids):
        n += 1
    return ids[0][:n]


def _printed_ids(out: str, ids: list[str]) -> list[str]:
    """The id cell printed for each run: a prefix of its id, found at the start of a table row."""
    found = []
    for full in ids:
        cells = [
            m.group(1)
            for m in re.finditer(r"[│|]\s*([0-9A-Z]{4,26})\s*[│|]", out)
            if full.startswith(m.group(1))
        ]
        assert len(cells) == 1, (full, out)
        found.append(cells[0])
    return found


def test_run_ls_at_80_columns_prints_unique_prefixes_that_commands_take_back(
    runs: list[str], keel_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    listed = keel_cli("run", "ls")
    assert listed.code == 0, listed.err
    assert max(len(line) for line in listed.out.splitlines()) <= 80
    assert "…" not in listed.out  # nothing is cut: columns that do not fit are left out, by name
    assert "(left out at 80 columns: accuracy, roc_auc; --json shows every field)" in listed.out
    short = _printed_ids(listed.out, runs)
    for full, printed in zip(runs, short, strict=True):  # the shortest prefix no other run shares, at least 8
        others = [r for r in runs if r != full]
        n = next(n for n in range(8, 27) if not any(o.startswith(full[:n]) for o in others))
        assert printed == full[:n]
    assert len(set(short)) == len(runs)
    for full, prefix in zip(runs, short, strict=True):
        shown = keel_cli("run", "show", prefix, "--json")
        assert shown.code == 0, shown.err
        assert json.loads(shown.out)["id"] == full
    monkeypatch.setenv("COLUMNS", "200")
    wide = keel_cli("run", "ls")
    assert "0.8123" in wide.out and "0.9012" in wide.out and _printed_ids(wide.out, runs) == short
    ended = keel_cli("run", "delete", short[0], "--json")
    assert ended.code == 0 and json.loads(ended.out)["deleted"] is True
    restored = keel_cli("run", "restore", short[0].lower(), "--json")
    assert restored.code == 0 and json.loads(restored.out)["id"] == runs[0]
    history = keel_cli("run", "history", short[1], "accuracy", "--json")
    assert history.code == 0 and [p["value"] for p in json.loads(history.out)] == [0.8123456]


def test_an_ambiguous_or_short_prefix_exits_2_naming_why(
    runs: list[str], keel_cli: Callable[..., Any]
) -> None:
    shared = _shared(runs)
    assert len(shared) >= 4
    ambiguous = keel_cli("run", "end", shared)
    assert ambiguous.code == 2
    assert "ambiguous" in ambiguous.err and all(r in ambiguous.err for r in runs)
    short = keel_cli("run", "show", runs[0][:3])
    assert short.code == 2 and "too short: give at least 4 characters" in short.err
    listed = json.loads(keel_cli("run", "ls", "--json").out)
    assert {r["status"] for r in listed} == {"FINISHED"}  # the refused end changed nothing


def test_history_of_a_metric_the_run_never_logged_exits_2(
    runs: list[str], keel_cli: Callable[..., Any]
) -> None:
    result = keel_cli("run", "history", runs[0], "nosuchmetric")
    assert result.code == 2
    assert "has no metric 'nosuchmetric'" in result.err and "accuracy, roc_auc" in result.err
    assert keel_cli("run", "history", runs[0], "nosuchmetric", "--json").code == 2


def test_tokens_listed_by_unique_prefix_and_revoked_by_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    assert keel_cli("init").code == 0
    assert keel_cli("user", "add", "ops", "--admin").code == 0
    made = [
        json.loads(keel_cli("token", "create", "--user", "ops", "--name", f"t{i}", "--json").out)
        for i in range(2)
    ]
    ids = [m["token"]["id"] for m in made]
    listed = keel_cli("token", "ls", "--user", "ops")
    assert listed.code == 0, listed.err
    assert max(len(line) for line in listed.out.splitlines()) <= 80
    short = _printed_ids(listed.out, ids)
    assert all(len(s) < 26 for s in short)
    all_ids = [t["id"] for t in json.loads(keel_cli("token", "ls", "--user", "ops", "--json").out)]
    too_short = keel_cli("token", "revoke", ids[0][:2])
    assert too_short.code == 2 and "too short" in too_short.err
    shared = _shared(ids)
    if len(shared) >= 4:
        ambiguous = keel_cli("token", "revoke", shared)
        assert ambiguous.code == 2 and "ambiguous" in ambiguous.err
    revoked = keel_cli("token", "revoke", short[0], "--json")
    assert revoked.code == 0, revoked.err
    assert json.loads(revoked.out)["id"] == ids[0] and json.loads(revoked.out)["revoked_at"]
    left = {t["id"] for t in json.loads(keel_cli("token", "ls", "--user", "ops", "--json").out)}
    assert ids[1] in left and ids[0] not in left and len(left) == len(all_ids) - 1
    unknown = keel_cli("token", "revoke", "ZZZZZZZZ")
    assert unknown.code == 2 and "no token with id 'ZZZZZZZZ'" in unknown.err
