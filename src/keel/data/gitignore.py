"""Git's view of tracked data: ``keel data add PATH`` adds ``/PATH`` to the ``.gitignore`` beside it.

So ``git add -A`` commits the ``PATH.keel`` pointer and not the data, as DVC
does. Nothing is written outside a git work tree.
"""

from __future__ import annotations

from pathlib import Path


def git_work_tree(path: Path) -> Path | None:
    """The git work tree holding ``path`` (the folder with ``.git``), or None outside one."""
    current = path.resolve()
    for folder in (current, *current.parents):
        if (folder / ".git").exists():
            return folder
    return None


def ignore_beside(data: Path) -> Path | None:
    """Add ``/<name>`` to the ``.gitignore`` beside ``data`` when inside a git work tree; returns that file.

    An entry already there is left alone; nothing is written outside git.
    """
    data = Path(str(data).rstrip("/\\") or ".").resolve()
    if git_work_tree(data.parent) is None:
        return None
    ignore = data.parent / ".gitignore"
    entry = "/" + data.name
    lines = ignore.read_text(encoding="utf-8").splitlines() if ignore.is_file() else []
    if entry in lines or data.name in lines:
        return ignore
    text = "\n".join([*lines, entry]) + "\n"
    temp = ignore.with_name(".gitignore.keel-tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(ignore)
    return ignore
