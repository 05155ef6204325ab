"""The tracking contract on SQLite, PostgreSQL and remote."""

from keel.testing.contract.tracking import *  # noqa: F403
