"""Metadata storage (L1): the engine, sessions, the batch write primitive and migrations.

Capabilities declare their tables on :data:`Base` and own them; this layer
knows how to connect (SQLite or PostgreSQL), how to open a read or a write
transaction safely across processes, and whether the schema is current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.lazy import lazy_getattr

__all__ = ["Base", "Store", "open_store", "redact_url"]

# Lazy: SQLAlchemy alone takes about 0.2 s to import, and commands that answer
# without the database (``keel data status`` from a SQLite file) must not pay it.
_LAZY = {
    "Base": "keel.store.base",
    "Store": "keel.store.engine",
    "open_store": "keel.store.engine",
    "redact_url": "keel.store.engine",
}

if TYPE_CHECKING:
    from keel.store.base import Base
    from keel.store.engine import Store, open_store, redact_url

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
