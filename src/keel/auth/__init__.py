"""Access (L1): who may do what.

The operation mechanism calls an :class:`~keel.core.operations.Authorizer`
before every operation; this package provides them. On a laptop, or with a
direct database URL, there is one implicit admin (:class:`SingleUserAuthorizer`).
``keel server`` uses :class:`RoleAuthorizer`: users, hashed API tokens
(:mod:`keel.auth.tokens`, verified with a cache of at most five seconds by
:mod:`keel.auth.verify`), per-project roles (:mod:`keel.auth.roles`) and an
append-only audit log (:mod:`keel.auth.audit`). The operations that manage
them live in the ``keel.access`` services.
"""

from keel.auth.authorizer import RoleAuthorizer
from keel.auth.single_user import SingleUserAuthorizer

__all__ = ["RoleAuthorizer", "SingleUserAuthorizer"]
