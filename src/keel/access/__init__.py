"""Access (L2): the operations that manage users, tokens, roles and read the audit log.

The tables and the checks live in ``keel.auth`` (L1), because every operation's
permission check reads them; these services are how people change them, each
change appending an audit event in the same transaction.
"""

from keel.access.audit import AuditService
from keel.access.roles import RoleService
from keel.access.tokens import TokenService
from keel.access.users import UserService
from keel.access.wiring import enable_auth

__all__ = ["AuditService", "RoleService", "TokenService", "UserService", "enable_auth"]
