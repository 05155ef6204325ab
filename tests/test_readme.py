"""The README's set-up section: two commands (CI runs the first on a bare install; every other block
runs in tests/test_readme_blocks.py)."""

from __future__ import annotations

import re
from pathlib import Path

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
