"""No two modules of ``keel.cli`` import each other, even inside functions (issue 10.14)."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "src" / "keel" / "cli"


def cli_imports() -> dict[str, set[str]]:
    """Module -> the keel.cli modules it imports anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for path in CLI.glob("*.py"):
        name = f"keel.cli.{path.stem}"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "keel.cli":
                    found |= {f"keel.cli.{a.name}" for a in node.names}
                elif node.module.startswith("keel.cli."):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.startswith("keel.cli.")}
        graph[name] = found - {name}
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a path of module names, or None."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_cli_modules_import_in_one_direction() -> None:
    assert cycle(cli_imports()) is None


def test_state_reads_credentials_without_a_command_module() -> None:
    graph = cli_imports()
    assert "keel.cli.login_cmd" not in graph["keel.cli.state"]
    assert "keel.cli.credentials" in graph["keel.cli.state"]


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
