"""User operations: add (with a first token), list, show, edit, and who-am-I."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.access.common import find_user, invalidate, token_schema, user_schema
from keel.access.schemas import NewUser, User, UserName, Whoami
from keel.auth import audit
from keel.auth.issue import issue_token
from keel.auth.models import UserRow
from keel.context import Service
from keel.core.constraints import Email, Limit, PageToken
from keel.core.errors import AlreadyExists, Conflict, InvalidInput
from keel.core.ids import new_id
from keel.core.operations import GLOBAL, Action, current_caller, operation
from keel.core.paging import DEFAULT_PAGE_SIZE, Page, check_page_size, encode_token, token_position
from keel.core.timeutil import utcnow


def _check_email(email: str | None) -> None:
    if email is not None and (len(email) > 320 or email.count("@") != 1 or email.startswith("@")):
        raise InvalidInput(f"email {email!r} is not an email address")


def _active_admins(session: Session) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(UserRow)
            .where(UserRow.is_admin.is_(True), UserRow.disabled.is_(False))
        ).scalar_one()
    )


class UserService(Service):
    """Users: people and service accounts who sign in to a Keel server with tokens."""

    name = "users"

    @operation("POST", "/api/v1/users", action=Action.GLOBAL_ADMIN, project=GLOBAL, status_code=201)
    def add(
        self,
        name: UserName,
        email: Email | None = None,
        admin: bool = False,
        can_create_projects: bool = False,
    ) -> NewUser:
        """Add a user and issue its first token (shown once)."""
        _check_email(email)
        caller = current_caller()
        now = utcnow()
        row = UserRow(
            id=new_id(),
            name=name,
            email=email,
            is_admin=admin,
            can_create_projects=can_create_projects or admin,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as session:
                if session.execute(select(UserRow.id).where(UserRow.name == name)).first():
                    raise AlreadyExists(f"a user named {name!r} exists already")
                session.add(row)
                session.flush()
                token, secret = issue_token(session, row.id, "initial", created_by=caller.name)
                audit.record(
                    session,
                    caller,
                    "user.add",
                    f"user:{name}",
                    admin=admin,
                    can_create_projects=row.can_create_projects,
                )
                audit.record(session, caller, "token.issue", f"token:{token.id}", user=name, name="initial")
        except IntegrityError:
            raise AlreadyExists(f"a user named {name!r} exists already") from None
        return NewUser(user=user_schema(row), token=token_schema(token, name), secret=secret)

    @operation("GET", "/api/v1/users", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def ls(self, limit: Limit = DEFAULT_PAGE_SIZE, page_token: PageToken | None = None) -> Page[User]:
        """List users by name, a page at a time."""
        check_page_size(limit)
        query = select(UserRow).order_by(UserRow.name).limit(limit + 1)
        if page_token:
            after = token_position(page_token, "after", str)
            query = query.where(UserRow.name > after)
        with self.store.read() as session:
            rows = list(session.execute(query).scalars())
        items = [user_schema(r) for r in rows[:limit]]
        next_token = encode_token({"after": items[-1].name}) if len(rows) > limit else None
        return Page[User](items=items, next_token=next_token)

    @operation("GET", "/api/v1/users/{name}", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def get(self, name: str) -> User:
        """Show one user."""
        with self.store.read() as session:
            return user_schema(find_user(session, name))

    @operation("PATCH", "/api/v1/users/{name}", action=Action.GLOBAL_ADMIN, project=GLOBAL)
    def edit(
        self,
        name: str,
        email: Email | None = None,
        admin: bool | None = None,
        can_create_projects: bool | None = None,
        disabled: bool | None = None,
    ) -> User:
        """Change a user's email, admin flag, project-creation right, or disable / enable it.

        Removing the last enabled admin (demoting or disabling it) is refused,
        so a server can never lock everyone out. A disabled user's tokens stop
        working within five seconds.
        """
        _check_email(email)
        caller = current_caller()
        with self.store.write() as session:
            row = find_user(session, name)
            changes: dict[str, Any] = {}
            for field, value in (
                ("email", email),
                ("is_admin", admin),
                ("can_create_projects", can_create_projects),
                ("disabled", disabled),
            ):
                if value is not None and getattr(row, field) != value:
                    changes[field] = value
            if not changes:
                return user_schema(row)
            was_active_admin = row.is_admin and not row.disabled
            for field, value in changes.items():
                setattr(row, field, value)
            if was_active_admin and not (row.is_admin and not row.disabled):
                session.flush()
                if _active_admins(session) == 0:
                    raise Conflict(
                        f"{name} is the last enabled admin; refusing to remove it",
                        hint="make another user an admin first",
                    )
            row.updated_at = utcnow()
            audit.record(session, caller, "user.edit", f"user:{name}", changes=changes)
            result = user_schema(row)
        invalidate(self.ctx)
        return result

    @operation("GET", "/api/v1/whoami", action=Action.AUTHENTICATED, project=GLOBAL)
    def whoami(self) -> Whoami:
        """Who the server takes the caller to be (the token's user and its rights)."""
        caller = current_caller()
        return Whoami(
            name=caller.name,
            is_admin=caller.is_admin,
            can_create_projects=caller.can_create_projects,
            scopes=sorted(caller.scopes),
            token_id=caller.token_id,
        )
