"""Run the data contract suite on every backend."""

from keel.testing.contract.data import *  # noqa: F403
