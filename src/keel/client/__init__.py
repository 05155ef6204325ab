"""The SDK (L3): one Client, two backends behind one protocol.

*Local* runs the services in-process on the workspace database; *remote*
talks to a ``keel server`` over HTTP with a token. Both derive every call
from the operations, so they cannot drift apart.
"""

from keel.client.client import Client, connect

__all__ = ["Client", "connect"]
