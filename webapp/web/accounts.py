"""Sign-up, log-in, log-out and password pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from webapp.core.errors import Invalid
from webapp.identity import accounts as service
from webapp.identity.accounts import LoginPolicy
from webapp.identity.sessions import end_session, start_session
from webapp.web.deps import (
    CurrentUser,
    HasherDep,
    OptionalUser,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    client_address,
)
from webapp.web.errors import redirect, redirect_to
from webapp.web.rendering import flash, render

router = APIRouter()
FormStr = Annotated[str, Form()]


def safe_next(target: str | None) -> str:
    """Only a local path: never another host, scheme, or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\r\n\t"):
        return "/"
    return target


@router.get("/register")
def register_form(request: Request, user: OptionalUser) -> Response:
    if user is not None:
        return redirect_to(request, "home")
    return render(request, "accounts/register.html", {"values": {}, "errors": {}})


@router.post("/register/validate")
def register_validate(
    request: Request, db: ReadSessionDep, field: Annotated[str, Query()] = "",
    email: FormStr = "", display_name: FormStr = "", password: FormStr = "",
) -> Response:
    """Inline validation of one register field (htmx); the full POST validates again."""
    errors = service.registration_errors(db, email=email, display_name=display_name, password=password)
    return render(request, "accounts/_field_error.html", {"field": field, "error": errors.get(field, "")})


@router.post("/register")
def register(
    request: Request, db: SessionDep, hasher: HasherDep,
    email: FormStr = "", display_name: FormStr = "", password: FormStr = "",
) -> Response:
    try:
        user = service.create_user(db, hasher=hasher, email=email, display_name=display_name, password=password)
    except Invalid as exc:
        values = {"email": email, "display_name": display_name}
        return render(request, "accounts/register.html", {"values": values, "errors": exc.errors},
                      block="form", status_code=422)
    start_session(request.session, db, user=user, user_agent=request.headers.get("user-agent", ""))
    flash(request, f"Welcome, {user.display_name}! Your account is ready.", "success")
    return redirect_to(request, "home")


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login.html", {"next": safe_next(next), "email": "", "error": ""})


@router.post("/login")
def login(
    request: Request, db: SessionDep, hasher: HasherDep, settings: SettingsDep,
    email: FormStr = "", password: FormStr = "", next: FormStr = "/",
) -> Response:
    policy = LoginPolicy(settings.login_max_failures, timedelta(minutes=settings.login_window_minutes))
    try:
        user = service.authenticate(
            db, hasher=hasher, email=email, password=password, client=client_address(request), policy=policy
        )
    except Invalid as exc:
        context = {"next": safe_next(next), "email": email, "error": exc.errors["form"]}
        return render(request, "accounts/login.html", context, block="form", status_code=422)
    start_session(request.session, db, user=user, user_agent=request.headers.get("user-agent", ""))
    return redirect(request, safe_next(next))


@router.post("/logout")
def logout(request: Request, db: SessionDep) -> Response:
    end_session(request.session, db)
    flash(request, "You have been logged out.")
    return redirect_to(request, "login_form")


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    service.logout_everywhere(db, user=user)
    request.session.clear()
    flash(request, "You have been logged out on every device.")
    return redirect_to(request, "login_form")


@router.get("/account/password")
def password_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "accounts/password.html", {"errors": {}})


@router.post("/account/password")
def change_password(
    request: Request, db: SessionDep, hasher: HasherDep, user: CurrentUser,
    current_password: FormStr = "", new_password: FormStr = "",
) -> Response:
    try:
        service.change_password(
            db, hasher=hasher, user=user, current_password=current_password, new_password=new_password
        )
    except Invalid as exc:
        return render(request, "accounts/password.html", {"errors": exc.errors}, block="form", status_code=422)
    # Every session was revoked; this browser gets a fresh one.
    start_session(request.session, db, user=user, user_agent=request.headers.get("user-agent", ""))
    flash(request, "Your password was changed. Other devices have been logged out.", "success")
    return redirect_to(request, "home")
