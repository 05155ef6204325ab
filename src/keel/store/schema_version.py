"""The schema revision this Keel expects; every new migration updates it.

Kept apart from the migrations so checking it does not load Alembic.
A test asserts it equals Alembic's head.
"""

HEAD_REVISION = "0001"
