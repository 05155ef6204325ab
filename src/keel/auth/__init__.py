"""Access (L1): who may do what.

The operation mechanism calls an :class:`~keel.core.operations.Authorizer`
before every operation; this package provides them. On a laptop, or with a
direct database URL, there is one implicit admin (single-user mode).
"""

from keel.auth.single_user import SingleUserAuthorizer

__all__ = ["SingleUserAuthorizer"]
