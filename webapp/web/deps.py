"""Request dependencies: the database session, the current user and role guards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from argon2 import PasswordHasher
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from webapp.core.config import Settings
from webapp.core.db import session_scope
from webapp.core.errors import Forbidden
from webapp.core.inputs import refuse_nul
from webapp.identity.models import Role, User
from webapp.identity.sessions import load_session_user
from webapp.mail.delivery import SmtpServer
from webapp.review.service import unseen_reviews
from webapp.web import forwarded
from webapp.web.csrf import SAFE_METHODS


class LoginRequired(Exception):
    """Raised for an anonymous visitor on a page that needs an account."""


class PasswordChangeRequired(Exception):
    """Raised while a user still holds a one-time password."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


def get_db(request: Request) -> Iterator[Session]:
    database = request.app.state.db
    factory = database.read_session if request.method in SAFE_METHODS else database.write_session
    with session_scope(factory) as session:
        yield session


def get_read_db(request: Request) -> Iterator[Session]:
    """A read transaction even for a POST (form validation that stores nothing)."""
    with session_scope(request.app.state.db.read_session) as session:
        yield session


# scope="function": commit before the response is sent, so what the user sees is durable.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


def get_optional_user(request: Request, db: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user (or None), loaded once per request with what the navigation shows them."""
    if not hasattr(request.state, "user"):
        user = load_session_user(request.session, db, settings=settings)
        request.state.user = user
        # The "new reviews" badge, read here in the request's own transaction: pages only render it.
        request.state.new_reviews = unseen_reviews(db, user=user) if user and user.role == Role.candidate else 0
    found: User | None = request.state.user
    return found


OptionalUser = Annotated[User | None, Depends(get_optional_user)]

_PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


def get_current_user(request: Request, user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets through signed-in users with one of ``roles`` (others get 403)."""

    def guard(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden("You do not have permission to see this page.")
        return user

    guard.__name__ = f"require_{'_or_'.join(r.value for r in roles)}"
    return guard


require_admin = require_role(Role.admin)
require_staff = require_role(Role.interviewer, Role.admin)
AdminUser = Annotated[User, Depends(require_admin)]
StaffUser = Annotated[User, Depends(require_staff)]


async def form_data(request: Request) -> FormData:
    """The whole form, for pages whose fields are dynamic (editors with repeated rows). Its text
    obeys ``core.inputs.Text`` as declared fields do (no NUL), or the request is a 422."""
    form = await request.form()
    for name, value in form.multi_items():
        if isinstance(value, str):
            try:
                refuse_nul(name + value)
            except ValueError as exc:
                problem = {"type": "value_error", "loc": ("body", name), "msg": str(exc)}
                raise RequestValidationError([problem]) from None
    return form


FormDataDep = Annotated[FormData, Depends(form_data)]


def client_address(request: Request) -> str:
    """Who is asking: the socket peer, or the client a trusted proxy forwards for (web/forwarded.py)."""
    settings: Settings = request.app.state.settings
    peer = request.client.host if request.client else None
    return forwarded.client_address(peer, request.headers.getlist("x-forwarded-for"), settings.trusted_proxies)


def smtp_server(settings: Settings) -> SmtpServer:
    """Where email goes (webapp/mail): the settings' SMTP server, or the log when none is set."""
    return SmtpServer(host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
                      password=settings.smtp_password, starttls=settings.smtp_starttls, sender=settings.mail_from)
