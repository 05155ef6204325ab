"""The projects contract on SQLite, PostgreSQL and remote."""

from keel.testing.contract.projects import *  # noqa: F403
