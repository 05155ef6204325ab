"""``place_files``: write many files into a folder all at once, or not at all.

A checkout that fails part-way (a corrupt object, a full disk, a dropped
connection) must leave its destination exactly as it was, never 20 of 21
files. So every file is first written into a hidden staging folder on the
same file system as the destination (``.keel-staging-<pid>-<random>``, inside
the destination when it exists, beside it when it does not), and only when
all of them are written and verified are they moved into place:

- a destination that did not exist is the staging folder renamed, one step;
- into an existing folder each file is renamed over its destination after the
  file it replaces (with ``force``) has been set aside in the staging folder;
  if a rename fails, the files already moved are taken back and the set-aside
  ones put back, and the folders created for them removed.

Every destination is checked before a byte is written: a path whose folder
resolves outside the destination (a symlinked folder) is refused, so is a
file where a folder stands or a folder where a file stands, and files that
exist already unless ``force``. A process killed while writing leaves only
the staging folder, which the next placement in the same folder removes when
the process that made it is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final

from keel.artifacts.files import inside
from keel.core.errors import Conflict, InvalidInput

#: Hidden folders that hold a placement's files until they are all written.
STAGING_PREFIX: Final = ".keel-staging-"

#: ``write(relative path, staged file)``: create the staged file (verified) or raise.
Writer = Callable[[str, Path], None]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_abandoned(folder: str) -> None:
    """Remove staging folders under ``folder`` whose process is gone (left by a killed checkout)."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            at = name.find(STAGING_PREFIX)
            if at < 0 or not entry.is_dir(follow_symlinks=False):
                continue
            pid = name[at + len(STAGING_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _staging_name() -> str:
    return f"{STAGING_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"


def check_destinations(root: str, paths: Sequence[str], *, force: bool, dest: Path) -> None:
    """Refuse, before anything is written, paths that cannot be placed under the existing folder ``root``.

    Raises InvalidInput for a path that would leave ``root`` through a
    symlinked folder, Conflict for a folder where a file goes, a file where a
    folder goes, and (unless ``force``) files that exist already.
    """
    existing = []
    checked_dirs: set[str] = set()
    for path in paths:
        folder = os.path.dirname(path)
        if folder not in checked_dirs:
            checked_dirs.add(folder)
            real = os.path.realpath(os.path.join(root, folder))
            if not inside(root, real):
                raise InvalidInput(f"{path} would be written outside {dest} (through a symlink); refused")
            part = root
            for name in folder.split("/") if folder else []:
                part = os.path.join(part, name)
                if os.path.lexists(part) and not os.path.isdir(part):
                    raise Conflict(f"{part} is a file; the tree has a folder there")
        target = os.path.join(root, path)
        if os.path.lexists(target):
            if os.path.isdir(target) and not os.path.islink(target):
                raise Conflict(f"{target} is a folder; the tree has a file there")
            existing.append(path)
    if existing and not force:
        raise Conflict(
            f"{len(existing)} file(s) exist already under {dest}, e.g. {existing[0]}",
            hint="pass --force to overwrite them",
        )


def _make_dirs(path: str, created: list[str]) -> None:
    """``os.makedirs``, remembering each folder it created (outermost first)."""
    missing = []
    while not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for folder in reversed(missing):
        os.mkdir(folder)
        created.append(folder)


def _run_writers(staged: str, paths: Sequence[str], write: Writer, workers: int) -> None:
    folders = sorted({os.path.dirname(p) for p in paths if "/" in p})
    for folder in folders:
        os.makedirs(os.path.join(staged, folder), exist_ok=True)

    def one(path: str) -> None:
        write(path, Path(staged, path))

    if workers <= 1 or len(paths) <= 1:
        for path in paths:
            one(path)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keel-place") as pool:
        futures = [pool.submit(one, p) for p in paths]
        try:
            for future in futures:
                future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _merge(root: str, staging: str, paths: Sequence[str]) -> None:
    """Move the staged files over ``root``'s; on any failure undo every move and remove new folders."""
    new = os.path.join(staging, "new")
    old = os.path.join(staging, "old")
    moved: list[tuple[str, bool]] = []
    created: list[str] = []
    try:
        for path in paths:
            target = os.path.join(root, path)
            _make_dirs(os.path.dirname(target), created)
            had_old = os.path.lexists(target)
            if had_old:
                os.makedirs(os.path.dirname(os.path.join(old, path)), exist_ok=True)
                os.replace(target, os.path.join(old, path))
            try:
                os.replace(os.path.join(new, path), target)
            except BaseException:
                if had_old:
                    os.replace(os.path.join(old, path), target)
                raise
            moved.append((path, had_old))
    except BaseException:
        for path, had_old in reversed(moved):
            target = os.path.join(root, path)
            with contextlib.suppress(OSError):
                os.replace(target, os.path.join(new, path))
                if had_old:
                    os.replace(os.path.join(old, path), target)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise


def place_files(
    dest: Path,
    paths: Sequence[str],
    write: Writer,
    *,
    force: bool = False,
    workers: int = 1,
) -> str:
    """Write ``paths`` (relative POSIX paths) under the folder ``dest`` through ``write``, all or nothing.

    ``write(path, staged)`` must create the file ``staged`` (a path in the
    staging folder) with the bytes meant for ``path``, or raise; it may run
    in ``workers`` threads. Returns the destination's real path. On any
    failure the destination is left as it was and the error is raised.
    Raises InvalidInput if ``dest`` is a file, Conflict as
    :func:`check_destinations` says, both before anything is written.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise InvalidInput(f"{dest} is a file; a tree is written into a folder")
    if len(set(paths)) != len(paths):
        raise InvalidInput("the same path is to be written twice")
    if dest.is_dir():
        root = os.path.realpath(dest)
        check_destinations(root, paths, force=force, dest=dest)
        _remove_abandoned(root)
        staging = os.path.join(root, _staging_name())
        os.mkdir(staging)
        try:
            os.mkdir(os.path.join(staging, "new"))
            _run_writers(os.path.join(staging, "new"), paths, write, workers)
            _merge(root, staging, paths)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return root
    created: list[str] = []
    parent = os.path.abspath(dest.parent)
    probe = parent
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise InvalidInput(f"{probe} is a file; cannot create the folder {dest} below it")
    _make_dirs(parent, created)
    _remove_abandoned(parent)
    staging = os.path.join(parent, f".{dest.name}{_staging_name()}")
    try:
        os.mkdir(staging)
        _run_writers(staging, paths, write, workers)
        try:
            os.rename(staging, dest)
        except OSError as exc:
            raise Conflict(f"{dest} appeared while its files were being written; nothing was placed") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    return os.path.realpath(dest)
