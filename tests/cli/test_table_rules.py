"""Listings at 80 columns: identifiers whole, values folded not cut, columns dropped by name,
secrets on their own line (issue 10.9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.cli import output

IDS = ["01M8M9S059F6MJABR546Y8ZZG2", "01M8M9S1WRK2M110WQ6ZR12C0G", "01M8M9S4AYAXTAEBQ2M60QCJDA"]
COLUMNS = ["id", "name", "status", "metrics.accuracy", "metrics.roc_auc", "started", "user", "description"]
ROWS = [
    [i, f"gbm-depth{n}", "FINISHED", "0.8123456", "0.9012345", "2026-11-29 18:00:00", "alice", "x" * 60]
    for n, i in enumerate(IDS)
]


def render(capsys: pytest.CaptureFixture[str], width: int, **kwargs: Any) -> str:
    output.print_table(None, COLUMNS, ROWS, width=width, **kwargs)
    return capsys.readouterr().out


def test_at_80_columns_ids_and_values_are_whole(capsys: pytest.CaptureFixture[str]) -> None:
    out = render(capsys, 80)
    assert all(i in out for i in IDS)
    assert "…" not in out
    assert "0.8123456" in out  # a value is whole, or folded, never cut
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "(left out at 80 columns:" in out and "--json shows every field" in " ".join(out.split())


def test_wide_enough_shows_every_column(capsys: pytest.CaptureFixture[str]) -> None:
    out = render(capsys, 250)
    assert "left out" not in out and "description" in out and "x" * 60 in out


def test_short_ids_are_the_shortest_unique_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    out = render(capsys, 120, short_ids=("id",))
    assert all(i[:8] in out and i not in out for i in IDS)


def test_unique_prefixes() -> None:
    assert output.unique_prefixes(["ABCDEFGH12", "ABCDEFGH34", "ZZZZZZZZZZ"]) == {
        "ABCDEFGH12": "ABCDEFGH1",
        "ABCDEFGH34": "ABCDEFGH3",
        "ZZZZZZZZZZ": "ZZZZZZZZ",
    }
    assert output.unique_prefixes([]) == {}
    assert output.unique_prefixes(["SAME", "SAME"]) == {"SAME": "SAME"}  # duplicates are one id


def test_digests_count_as_ids() -> None:
    assert output.is_id_column("anything", ["a" * 64])
    assert not output.is_id_column("name", ["churn", ""])


def test_a_new_token_prints_whole_on_its_own_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "40")
    assert keel_cli("init").code == 0
    added = keel_cli("user", "add", "ops", "--admin")
    assert added.code == 0, added.err
    lines = added.out.splitlines()
    token_lines = [line for line in lines if line.startswith("keel_")]
    assert len(token_lines) == 1 and len(token_lines[0]) > 40
    created = keel_cli("token", "create", "--user", "ops", "--name", "ci")
    assert created.code == 0, created.err
    assert any(line.startswith("keel_") and len(line) > 40 for line in created.out.splitlines())


def test_data_log_and_show_fold_long_values_instead_of_cutting_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keel_cli: Callable[..., Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    assert keel_cli("init").code == 0
    long_text = "a-category-value-much-longer-than-twenty-four-characters"
    rows = [long_text] + ["b", "c", "d"] * 3  # the long value is the minimum, not a top value
    (tmp_path / "t.csv").write_text("id,label\n" + "".join(f"{i},{v}\n" for i, v in enumerate(rows)))
    message = "retrained after the label fix " + " ".join(f"word{i}" for i in range(20))
    added = keel_cli("data", "add", "t.csv", "--name", "t", "-m", message)
    assert added.code == 0, added.err
    logged = keel_cli("data", "log", "t")
    assert logged.code == 0 and "…" not in logged.out
    assert all(f"word{i}" in logged.out for i in range(20))  # every word, folded over lines
    shown = keel_cli("data", "show", "t@v1")
    assert shown.code == 0 and "…" not in shown.out
    assert "-characters" in shown.out  # the end of the long minimum: folded onto a later line, not cut
