"""What a run captures about where it ran: git, Python, platform, packages, command, host, user.

Small facts go on the run (``environment``); the git diff and the package
list are files, stored as artifacts by the caller, with their digests on the
run. Every probe is best-effort: no git, no repository, no permission --
that fact is simply absent.
"""

from __future__ import annotations

import getpass
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import blake3


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def git_state(cwd: Path | None = None) -> tuple[dict[str, Any], str | None]:
    """(commit, branch, dirty, root) of the repository around ``cwd``, and the uncommitted diff."""
    where = cwd or Path.cwd()
    root = _git(["rev-parse", "--show-toplevel"], where)
    if root is None:
        return {}, None
    commit = (_git(["rev-parse", "HEAD"], where) or "").strip() or None
    branch = (_git(["rev-parse", "--abbrev-ref", "HEAD"], where) or "").strip() or None
    status = _git(["status", "--porcelain", "--untracked-files=no"], where) or ""
    dirty = bool(status.strip())
    diff = _git(["diff", "HEAD"], where) if dirty and commit else None
    return {"commit": commit, "branch": branch, "dirty": dirty, "root": root.strip()}, diff


def installed_packages() -> str:
    """``name==version`` of every installed distribution, sorted (a requirements file)."""
    from importlib.metadata import distributions

    seen = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            seen[name.lower()] = f"{name}=={dist.version}"
    return "\n".join(seen[k] for k in sorted(seen)) + "\n"


def capture(cwd: Path | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(facts for the run, files to store as artifacts: ``environment/requirements.txt``, ``git.diff``)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = None
    git, diff = git_state(cwd)
    env: dict[str, Any] = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "host": socket.gethostname(),
        "user": user,
        "command": [sys.executable, *sys.argv],
        "cwd": str(Path.cwd()),
    }
    if git:
        env["git"] = git
    files = {"environment/requirements.txt": installed_packages().encode()}
    if diff:
        files["environment/git.diff"] = diff.encode()
    # the artifacts' digests on the run itself (BLAKE3 of the raw bytes, as the artifact store names them)
    env["artifacts"] = {path: blake3.blake3(data).hexdigest() for path, data in files.items()}
    return env, files
