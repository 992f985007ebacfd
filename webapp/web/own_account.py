"""A signed-in user's own account: changing the password, logging out everywhere (signed-in pages:
guarded in web/routes.py; reachable while a password change is required)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from webapp.core.errors import Invalid
from webapp.identity import accounts as service
from webapp.identity.sessions import start_session
from webapp.web.deps import CurrentUser, HasherDep, SessionDep
from webapp.web.errors import redirect_to
from webapp.web.params import FormText
from webapp.web.rendering import flash, render

router = APIRouter()


@router.post("/account/logout-everywhere")
def logout_everywhere(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    service.logout_everywhere(db, user=user)
    request.session.clear()
    flash(request, "You have been logged out on every device.")
    return redirect_to(request, "login_form")


@router.get("/account/password")
def password_form(request: Request) -> Response:
    return render(request, "accounts/password.html", {"errors": {}})


@router.post("/account/password")
def change_password(
    request: Request, db: SessionDep, hasher: HasherDep, user: CurrentUser,
    current_password: FormText = "", new_password: FormText = "",
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


@router.get("/account/time-zone")
def time_zone_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "accounts/time_zone.html", {"zones": service.time_zones(), "chosen": user.time_zone,
                                                         "errors": {}})


@router.post("/account/time-zone")
def set_time_zone(request: Request, db: SessionDep, user: CurrentUser, time_zone: FormText = "") -> Response:
    try:
        service.set_time_zone(db, user=user, time_zone=time_zone)
    except Invalid as exc:
        return render(request, "accounts/time_zone.html", {"zones": service.time_zones(), "chosen": time_zone,
                                                             "errors": exc.errors}, status_code=422)
    flash(request, f"Times are shown in {time_zone or 'your browser’s time zone'}.", "success")
    return redirect_to(request, "time_zone_form")


@router.get("/account/email")
def email_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "accounts/email.html", {})


@router.post("/account/email")
def set_email_preferences(request: Request, db: SessionDep, user: CurrentUser,
                          review_emails: FormText = "") -> Response:
    service.set_review_emails(db, user=user, wanted=review_emails == "on")
    flash(request, "Saved: " + ("you get an email when a review is ready." if user.review_emails
                                else "no emails about reviews."), "success")
    return redirect_to(request, "email_form")
