"""User management for admins: search, roles, deactivation and password resets."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from pydantic import Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from webapp.audit.service import record_event
from webapp.core.errors import Conflict
from webapp.core.inputs import Line, PageNumber
from webapp.core.like import contains_text
from webapp.core.listing import ListFilters
from webapp.identity.accounts import set_active, set_role
from webapp.identity.models import Role, User
from webapp.identity.sessions import revoke_all_sessions

PER_PAGE = 30


class UserFilters(ListFilters):
    q: Line = Field(default="", max_length=200)
    role: Role | None = None
    page: PageNumber = 1


@dataclass
class UserPage:
    items: Sequence[User]
    total: int
    filters: UserFilters


def search_users(db: Session, *, filters: UserFilters) -> UserPage:
    """Users whose email or name contains the query, newest first."""
    statement = select(User)
    if filters.q.strip():
        query = filters.q.strip()
        statement = statement.where(or_(contains_text(User.email, query), contains_text(User.display_name, query)))
    if filters.role:
        statement = statement.where(User.role == filters.role)
    total = db.scalar(select(func.count()).select_from(statement.subquery())) or 0
    items = db.scalars(statement.order_by(User.id.desc()).limit(PER_PAGE).offset((filters.page - 1) * PER_PAGE)).all()
    return UserPage(items=items, total=total, filters=filters)


def _guard_self(user: User, actor: User, what: str) -> None:
    # An admin locking themselves out is almost always a mistake, and may leave no admin at all.
    if user.id == actor.id:
        raise Conflict({"form": f"You cannot {what} your own account; ask another admin."})


def change_role(db: Session, *, user: User, role: Role, actor: User) -> None:
    _guard_self(user, actor, "change the role of")
    set_role(db, user=user, role=role, actor=actor)


def change_active(db: Session, *, user: User, active: bool, actor: User) -> None:
    if not active:
        _guard_self(user, actor, "deactivate")
    set_active(db, user=user, active=active, actor=actor)


def reset_password(db: Session, *, user: User, actor: User, hasher: PasswordHasher) -> str:
    """A one-time password (returned once, never stored in clear); the user must change it at log-in."""
    password = secrets.token_urlsafe(12)
    user.password_hash = hasher.hash(password)
    user.must_change_password = True
    revoke_all_sessions(db, user=user)
    record_event(db, actor=actor, action="user.password_reset", target=f"user:{user.id}", summary=user.email)
    return password
