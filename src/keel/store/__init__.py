"""Metadata storage (L1): the engine, sessions, the batch write primitive and migrations.

Capabilities declare their tables on :data:`Base` and own them; this layer
knows how to connect (SQLite or PostgreSQL), how to open a read or a write
transaction safely across processes, and whether the schema is current.
"""

from keel.store.base import Base
from keel.store.engine import Store, open_store, redact_url

__all__ = ["Base", "Store", "open_store", "redact_url"]
