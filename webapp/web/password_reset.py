"""Forgotten passwords: ask for a link by email, then choose a new password from it (public pages)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response

from webapp.core.errors import Invalid, NotFound, RateLimited
from webapp.identity import password_reset as service
from webapp.mail.delivery import deliver_pending
from webapp.web.deps import HasherDep, SessionDep, SettingsDep, client_address, smtp_server
from webapp.web.errors import http_status, redirect_to
from webapp.web.params import FormText, Line
from webapp.web.rendering import flash, render

router = APIRouter()


@router.get("/password/forgot")
def forgot_form(request: Request) -> Response:
    return render(request, "accounts/forgot.html", {"errors": {}, "email": "", "sent": False})


@router.post("/password/forgot")
def forgot(request: Request, db: SessionDep, settings: SettingsDep, tasks: BackgroundTasks,
           email: FormText = "") -> Response:
    try:
        service.request_reset(db, email=email, client=client_address(request), public_url=settings.public_url,
                              secret=settings.effective_secret_key)
    except RateLimited as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return render(request, "accounts/forgot.html", {"errors": exc.errors, "email": email, "sent": False},
                      status_code=http_status(exc), headers=headers)
    # Sent after the response (and so after the commit), the same way whether or not a message was queued.
    tasks.add_task(deliver_pending, request.app.state.db, server=smtp_server(settings))
    return render(request, "accounts/forgot.html", {"errors": {}, "email": "", "sent": True})


@router.get("/password/reset/{token}")
def reset_form(request: Request, db: SessionDep, settings: SettingsDep, token: Line) -> Response:
    try:
        service.user_for_link(db, token=token, secret=settings.effective_secret_key)
    except NotFound as exc:
        return render(request, "accounts/reset.html", {"expired": exc.message, "errors": {}, "token": token},
                      status_code=404)
    return render(request, "accounts/reset.html", {"expired": "", "errors": {}, "token": token})


@router.post("/password/reset/{token}")
def reset(request: Request, db: SessionDep, settings: SettingsDep, hasher: HasherDep, token: Line,
          new_password: FormText = "") -> Response:
    try:
        service.reset_password(db, hasher=hasher, token=token, secret=settings.effective_secret_key,
                               new_password=new_password)
    except NotFound as exc:
        return render(request, "accounts/reset.html", {"expired": exc.message, "errors": {}, "token": token},
                      status_code=404)
    except Invalid as exc:
        return render(request, "accounts/reset.html", {"expired": "", "errors": exc.errors, "token": token},
                      status_code=422)
    flash(request, "Your password was changed and every device was logged out. Log in with the new one.", "success")
    return redirect_to(request, "login_form")
