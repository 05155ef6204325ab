"""The artifacts contract: the store on a local folder and S3; the operations on SQLite, PostgreSQL and remote."""

from keel.testing.contract.artifacts import *  # noqa: F403
