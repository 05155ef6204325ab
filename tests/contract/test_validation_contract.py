"""Run the validation contract suite on every backend."""

from keel.testing.contract.validation import *  # noqa: F403
