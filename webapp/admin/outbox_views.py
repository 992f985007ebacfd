"""/admin/outbox: the emails the site sent (or logged, without an SMTP server) and their state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from webapp.mail.delivery import recent_messages
from webapp.web.deps import SessionDep, SettingsDep
from webapp.web.rendering import render

router = APIRouter(prefix="/admin/outbox")


@router.get("")
def outbox(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    # Bodies (reset links) only while no SMTP server is set: then this page is how they are read.
    context = {"messages": recent_messages(db), "show_bodies": not settings.smtp_host}
    return render(request, "admin/outbox.html", context)
