"""Users, their browser sessions and failed log-in attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    candidate = "candidate"
    interviewer = "interviewer"
    admin = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored case-folded, so uniqueness is case-insensitive on every backend.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, validate_strings=True), default=Role.candidate
    )
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped to revoke every session at once (password change, deactivation, role change).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # An IANA zone ("Europe/Paris") pages show times in; "" follows the browser's own.
    time_zone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Email me when an interviewer's review of my answer is ready (an opt-out, on by default).
    review_emails: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    sessions: Mapped[list[AuthSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class AuthSession(Base):
    """One signed-in browser. The cookie carries its random id; deleting the row logs it out."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(Base):
    """One counted failure for throttling (identity/throttle.py): a failed log-in, once per count it
    goes to (account and address, address, account, known browser), or a sign-up check that found an
    existing account. Rows older than a day are pruned as new ones arrive (the ``at`` index)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"), Index("ix_login_failures_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
