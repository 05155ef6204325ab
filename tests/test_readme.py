"""The README's Python examples run, in order, in a fresh workspace (docs with runnable examples)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from keel.testing.fixtures import new_workspace

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_two_setup_commands() -> None:
    text = README.read_text(encoding="utf-8")
    setup = text[text.index("## Set up") :].split("\n## ", 1)[0]
    commands = [
        line
        for line in re.findall(r"```bash\n(.*?)```", setup, flags=re.S)[0].splitlines()
        if line and not line.startswith("#")
    ]
    assert commands == ["pip install -e . && keel quickstart", "pip install -e '.[dev]' && python -m pytest"]


@pytest.mark.slow
def test_readme_python_examples_run(tmp_path: Path) -> None:
    blocks = python_blocks()
    assert blocks, "the README has no Python example"
    settings = new_workspace(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEEL_")}
    env["KEEL_HOME"] = settings.home
    script = "\n\n".join(blocks)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
