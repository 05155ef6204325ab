"""The schema revisions this Keel expects; a capability's new migration updates its entry.

Each capability keeps its migrations on its own Alembic branch (rooted at the
foundation's ``0001``), so capabilities evolve their tables independently; the
database is current when its recorded heads equal this set. Kept apart from
the migrations so checking it does not load Alembic; a test asserts it equals
Alembic's heads.
"""

from typing import Final

HEAD_REVISIONS: Final[frozenset[str]] = frozenset({"0001", "0004"})
