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

from __future__ import annotations

from typing import TYPE_CHECKING

from keel.core.lazy import lazy_getattr

__all__ = ["RoleAuthorizer", "SingleUserAuthorizer"]

# Lazy: a local workspace needs only SingleUserAuthorizer, and RoleAuthorizer's
# tables would bring SQLAlchemy into commands that never open the database.
_LAZY = {"RoleAuthorizer": "keel.auth.authorizer", "SingleUserAuthorizer": "keel.auth.single_user"}

if TYPE_CHECKING:
    from keel.auth.authorizer import RoleAuthorizer
    from keel.auth.single_user import SingleUserAuthorizer

__getattr__ = lazy_getattr(__name__, _LAZY, globals())
