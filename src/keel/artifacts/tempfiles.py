"""Temporary files of a local store: each writer owns its own, and a dead writer's are removed.

Every object is written under ``objects/.tmp/`` first and renamed into place
when complete. A writer killed mid-write (``kill -9`` during ``keel data
add``) leaves its temporaries behind; waiting an hour before removing them
(the old rule) fills the disk meanwhile, while removing young ones could
delete a live writer's file out from under it. So ownership is explicit:

- each store instance picks a token, ``<pid>.<random>``, and holds an
  exclusive ``flock`` on ``.tmp/<token>.lock`` for as long as it lives (the
  kernel drops the lock when the process dies, however it dies);
- its temporaries are named ``<token>-<thread>-<random>``;
- :func:`clean_temp` (run by the next put, ``fsck`` and ``gc``) removes the
  temporaries of every token whose lock it can take, since that owner is
  gone. A temporary with no lock file (named by an older Keel, ``<pid>-…``)
  is removed once its pid is not a live process, or once it is older than
  ``older_than_s`` whatever its pid says (a pid can be reused).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
import uuid
from typing import Final

LOCK_SUFFIX: Final = ".lock"
#: Temporaries whose owner cannot be established are removed after this long.
ORPHAN_AFTER_S: Final = 3600.0


class TempOwner:
    """This store instance's claim on its temporaries: a token and the lock that proves it is alive."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.token = f"{os.getpid()}.{uuid.uuid4().hex[:8]}"
        self._fd: int | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def prefix(self) -> str:
        """``<folder>/<token>-``, taking the lock on first use (and again in a forked child)."""
        if self._fd is None or self._pid != os.getpid():
            with self._lock:  # writer threads share one claim
                if self._fd is None or self._pid != os.getpid():
                    self._claim()
        return f"{self.folder}/{self.token}-"

    def _claim(self) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's lock is not ours
            self._pid = os.getpid()
            self.token = f"{self._pid}.{uuid.uuid4().hex[:8]}"
        while True:
            path = f"{self.folder}/{self.token}{LOCK_SUFFIX}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a cleaner is testing the fresh file this instant: take another token
                os.close(fd)
                self.token = f"{self._pid}.{uuid.uuid4().hex[:8]}"
                continue
            if os.path.exists(path):
                self._fd = fd
                return
            os.close(fd)  # a cleaner removed the file between open and lock: claim a new one

    def release(self) -> None:
        """Drop the lock (the store instance is gone); the next cleaner removes the lock file and
        anything this owner left, exactly as for an owner that died."""
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner_gone(folder: str, token: str) -> bool:
    """Whether ``token``'s lock can be taken (its owner is dead); the lock file is removed if so."""
    path = f"{folder}/{token}{LOCK_SUFFIX}"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # while holding it: a racing cleaner finds no file, the owner is truly gone
    os.close(fd)
    return True


def clean_temp(folder: str, *, own: TempOwner | None = None, older_than_s: float = ORPHAN_AFTER_S) -> int:
    """Remove the temporaries in ``folder`` that no live writer owns; returns how many went."""
    try:
        with os.scandir(folder) as scan:
            names = {entry.name: entry for entry in scan}
    except FileNotFoundError:
        return 0
    mine = own.token if own is not None and own._fd is not None else None
    locks = {name[: -len(LOCK_SUFFIX)] for name in names if name.endswith(LOCK_SUFFIX)}
    dead = {token for token in locks if token != mine and _owner_gone(folder, token)}
    cutoff = time.time() - older_than_s
    removed = 0
    for name, entry in names.items():
        if name.endswith(LOCK_SUFFIX):
            continue
        token = name.split("-", 1)[0]
        if token == mine:
            continue
        gone = False
        if token in locks:
            gone = token in dead
        else:
            pid = token.split(".", 1)[0]
            with contextlib.suppress(FileNotFoundError):
                gone = (pid.isdigit() and not _pid_alive(int(pid))) or entry.stat(
                    follow_symlinks=False
                ).st_mtime < cutoff
        if gone:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed += 1
    return removed
