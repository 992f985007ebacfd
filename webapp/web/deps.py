"""Request dependencies: the database session, the current user and role guards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import anyio.to_thread
from anyio import CancelScope, CapacityLimiter
from argon2 import PasswordHasher
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import FormData

from webapp.core.config import Settings
from webapp.core.db import session_scope
from webapp.core.errors import Forbidden
from webapp.core.inputs import refuse_nul
from webapp.identity.models import Role, User
from webapp.identity.sessions import load_session_user
from webapp.mail.delivery import SmtpServer
from webapp.web import forwarded
from webapp.web.csrf import SAFE_METHODS


class LoginRequired(Exception):
    """Raised for an anonymous visitor on a page that needs an account."""


class PasswordChangeRequired(Exception):
    """Raised while a user still holds a one-time password."""


# Dependencies that do no I/O are async: FastAPI runs a sync one on a worker thread, a hop of
# ~50 µs through the event loop for nothing (bench/request_profile.py).
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_hasher(request: Request) -> PasswordHasher:
    hasher: PasswordHasher = request.app.state.hasher
    return hasher


@asynccontextmanager
async def _scoped(request: Request, factory: sessionmaker[Session], *, shared: bool) -> AsyncIterator[Session]:
    """``session_scope`` opened here (no I/O: a connection is taken at the first query, on a worker
    thread) and closed on a worker thread (the commit or rollback talks to the database), the way
    FastAPI runs a sync generator's exit: shielded from cancellation, not waiting for a free thread.
    ``shared``: render() may read the navigation's badge in it while the request runs (web/rendering.py)."""
    scope = session_scope(factory)
    session = scope.__enter__()
    if shared:
        request.state.db = session
    try:
        yield session
    except BaseException as exc:
        if shared:
            request.state.db = None
        with CancelScope(shield=True):
            handled = await anyio.to_thread.run_sync(scope.__exit__, type(exc), exc, exc.__traceback__,
                                                     limiter=CapacityLimiter(1))
        if not handled:
            raise
    else:
        if shared:
            request.state.db = None
        with CancelScope(shield=True):
            await anyio.to_thread.run_sync(scope.__exit__, None, None, None, limiter=CapacityLimiter(1))


async def get_db(request: Request) -> AsyncIterator[Session]:
    database = request.app.state.db
    factory = database.read_session if request.method in SAFE_METHODS else database.write_session
    async with _scoped(request, factory, shared=True) as session:
        yield session


async def get_read_db(request: Request) -> AsyncIterator[Session]:
    """A read transaction even for a POST (form validation that stores nothing)."""
    async with _scoped(request, request.app.state.db.read_session, shared=False) as session:
        yield session


# scope="function": commit before the response is sent, so what the user sees is durable.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]


async def get_optional_user(request: Request, db: SessionDep) -> User | None:
    """The signed-in user (or None), loaded once per request. A visitor without a session costs
    neither a query nor a worker thread; the navigation's badge is read only when a page is
    rendered (web/rendering.py), not for fragments, redirects and form posts."""
    if not hasattr(request.state, "user"):
        session = request.session
        settings: Settings = request.app.state.settings  # not a dependency: each one costs FastAPI ~20 µs
        request.state.user = await run_in_threadpool(load_session_user, session, db, settings=settings) \
            if "sid" in session else None
    found: User | None = request.state.user
    return found


OptionalUser = Annotated[User | None, Depends(get_optional_user)]

_PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


async def get_current_user(request: Request, user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired()
    if user.must_change_password and request.url.path not in _PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through signed-in users with one of ``roles`` (others get 403)."""

    async def guard(user: CurrentUser) -> User:
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
