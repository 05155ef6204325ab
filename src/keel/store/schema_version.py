"""The schema revisions this Keel expects; a capability's new migration updates its entry.

Each capability keeps its migrations on its own Alembic branch (rooted at the
foundation's ``0001``), so capabilities evolve their tables independently; the
database is current when its recorded heads equal this set. Alembic records
only branch *heads*: once a branch sits on ``0001``, ``0001`` is no longer a
head, so this set lists each capability branch's newest revision (and ``0001``
only while no branch exists). Kept apart from
the migrations so checking it does not load Alembic; a test asserts it equals
Alembic's heads.
"""

from typing import Final

HEAD_REVISIONS: Final[frozenset[str]] = frozenset(
    {
        "0002",
        "0003",
        "0004b",
        "0005",
        "0006b",
        "0007b",
        "0008b",
        "0009_deployments",
        "0010_predictions",
        "0011_monitoring",
    }
)
