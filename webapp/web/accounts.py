"""Sign-up, log-in, log-out and password pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from webapp.core.config import Settings
from webapp.core.errors import Invalid
from webapp.identity import accounts as service
from webapp.identity.devices import DEVICE_COOKIE_AGE, device_cookie_after_login, read_device_cookie
from webapp.identity.sessions import end_session, start_session
from webapp.identity.throttle import LoginPolicy, SignupChecks
from webapp.web.deps import (
    HasherDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    client_address,
)
from webapp.web.errors import redirect, redirect_to
from webapp.web.params import FormText, Line, Text
from webapp.web.rendering import flash, render

router = APIRouter()
FormStr = FormText  # web/params.py: no NUL, bounded (the services check lengths and formats)


def safe_next(target: str | None) -> str:
    """Only a local path: never another host, scheme, or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t"):
        return "/"
    return target


def _login_policy(settings: Settings) -> LoginPolicy:
    return LoginPolicy(max_failures=settings.login_max_failures,
                       window=timedelta(minutes=settings.login_window_minutes),
                       client_max_failures=settings.login_client_max_failures,
                       account_max_failures=settings.login_account_max_failures)


def _signup_checks(request: Request, settings: Settings) -> SignupChecks:
    return SignupChecks(client=client_address(request), max_existing=settings.signup_max_existing,
                        window=timedelta(minutes=settings.login_window_minutes))


def _devices(request: Request, settings: Settings) -> dict[int, str]:
    return read_device_cookie(request.cookies.get(settings.device_cookie_name), secret=settings.effective_secret_key)


def _remember_device(request: Request, response: Response, settings: Settings, *, user_id: int) -> Response:
    """This browser has logged in to the account: its failures there count apart (identity/devices.py)."""
    devices = _devices(request, settings)
    value = device_cookie_after_login(devices, user_id=user_id, secret=settings.effective_secret_key)
    response.set_cookie(settings.device_cookie_name, value, max_age=int(DEVICE_COOKIE_AGE.total_seconds()), path="/",
                        secure=settings.https, httponly=True, samesite="strict")
    return response


@router.get("/register")
def register_form(request: Request, user: OptionalUser, next: Text | None = None) -> Response:
    if user is not None:
        return redirect(request, safe_next(next))
    return render(request, "accounts/register.html", {"values": {}, "errors": {}, "next": safe_next(next)})


@router.post("/register/validate")
def register_validate(
    request: Request, db: SessionDep, settings: SettingsDep, field: Annotated[Line, Query()] = "",
    email: FormStr = "", display_name: FormStr = "", password: FormStr = "",
) -> Response:
    """Inline validation of one register field (htmx); the full POST validates again. Finding an existing
    account is counted per client address (429 past the limit)."""
    error = service.registration_field_error(db, field=field, email=email, display_name=display_name,
                                             password=password, signup=_signup_checks(request, settings))
    return render(request, "accounts/_field_error.html", {"field": field, "error": error})


@router.post("/register")
def register(
    request: Request, db: SessionDep, hasher: HasherDep, settings: SettingsDep,
    email: FormStr = "", display_name: FormStr = "", password: FormStr = "", next: FormStr = "/",
) -> Response:
    try:
        user = service.create_user(db, hasher=hasher, email=email, display_name=display_name, password=password,
                                   signup=_signup_checks(request, settings))
    except Invalid as exc:
        values = {"email": email, "display_name": display_name}
        return render(request, "accounts/register.html", {"values": values, "errors": exc.errors,
                                                          "next": safe_next(next)}, block="form", status_code=422)
    start_session(request.session, db, user=user, user_agent=request.headers.get("user-agent", ""))
    flash(request, f"Welcome, {user.display_name}! Your account is ready.", "success")
    # Back where sign-up was asked for (a question a visitor wanted to answer), else home.
    return _remember_device(request, redirect(request, safe_next(next)), settings, user_id=user.id)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: Text | None = None) -> Response:
    if user is not None:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login.html", {"next": safe_next(next), "email": "", "error": ""})


@router.post("/login")
def login(
    request: Request, db: SessionDep, hasher: HasherDep, settings: SettingsDep,
    email: FormStr = "", password: FormStr = "", next: FormStr = "/",
) -> Response:
    try:
        user = service.authenticate(
            db, hasher=hasher, email=email, password=password, client=client_address(request),
            devices=_devices(request, settings), policy=_login_policy(settings),
        )
    except Invalid as exc:
        context = {"next": safe_next(next), "email": email, "error": exc.errors["form"]}
        return render(request, "accounts/login.html", context, block="form", status_code=422)
    start_session(request.session, db, user=user, user_agent=request.headers.get("user-agent", ""))
    return _remember_device(request, redirect(request, safe_next(next)), settings, user_id=user.id)


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    end_session(request.session, db)
    flash(request, "You have been logged out.")
    return redirect_to(request, "login_form")
