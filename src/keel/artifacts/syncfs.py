"""One ``syncfs`` per batch, instead of an ``fsync`` per file.

Python has no ``os.syncfs``; on Linux we call ``libc.syncfs(fd)`` through
``ctypes`` on a descriptor of the store's folder, which flushes that one file
system (data and the directory entries of the renames). Elsewhere, or when
libc lacks the call, we fall back to ``os.sync()``, which flushes every file
system: slower, never less safe.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _libc_syncfs() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        func = libc.syncfs
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int]
    func.restype = ctypes.c_int
    return func


def syncfs(folder: Path) -> str:
    """Flush the file system holding ``folder`` to disk; returns which call did it."""
    func = _libc_syncfs()
    if func is not None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            if func(fd) == 0:
                return "syncfs"
        finally:
            os.close(fd)
    os.sync()
    return "sync"
